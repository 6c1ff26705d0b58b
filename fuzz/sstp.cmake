# SSTP codec fuzz target: the input is a peer's byte stream (see sstp_decode_fuzz.cpp).
grove_fuzzer(sstp_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/sstp_decode_fuzz.cpp LIBS grove_sstp)

# grove_fuzzer() instruments only the target's own sources. Without coverage counters in the code
# under test libFuzzer explores blind, so grove_sstp is instrumented too (fuzz builds only).
target_compile_options(grove_sstp PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
target_link_options(grove_sstp INTERFACE -fsanitize=address,undefined)
