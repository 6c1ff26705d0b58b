# The HTTP head parser (src/http) shared by henc and the CONNECT client, fed as a hostile peer.
grove_fuzzer(http_head SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_head_fuzz.cpp LIBS grove_http)

# Coverage counters in the code under test, as sstp.cmake does for grove_sstp (fuzz builds only):
# henc_parse and proxy_connect reach this parser too.
target_compile_options(grove_http PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
target_link_options(grove_http INTERFACE -fsanitize=address,undefined)
