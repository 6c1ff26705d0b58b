# SSTP codec throughput on the Data hot path (sstp_codec_bench.cpp).
grove_bench(sstp_codec SOURCES ${CMAKE_CURRENT_LIST_DIR}/sstp_codec_bench.cpp LIBS grove_sstp)
