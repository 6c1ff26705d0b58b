# HTTP encapsulations (src/henc): the relay core as a hostile client would feed it, the client
# core as a hostile relay or proxy would answer it, and the Polling/URI parsers.
grove_fuzzer(henc_relay SOURCES ${CMAKE_CURRENT_LIST_DIR}/henc_relay_fuzz.cpp LIBS grove_henc)
grove_fuzzer(henc_client SOURCES ${CMAKE_CURRENT_LIST_DIR}/henc_client_fuzz.cpp LIBS grove_henc)
grove_fuzzer(henc_parse SOURCES ${CMAKE_CURRENT_LIST_DIR}/henc_parse_fuzz.cpp LIBS grove_henc)

# Coverage counters in the code under test (fuzz builds only).
target_compile_options(grove_henc PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
target_link_options(grove_henc INTERFACE -fsanitize=address,undefined)
