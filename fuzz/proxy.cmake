# Proxy handshakes (src/proxy): CONNECT client, SOCKS client, authentication parsers, proxy URLs.
grove_fuzzer(proxy_connect SOURCES ${CMAKE_CURRENT_LIST_DIR}/proxy_connect_fuzz.cpp LIBS grove_proxy)
grove_fuzzer(proxy_socks SOURCES ${CMAKE_CURRENT_LIST_DIR}/proxy_socks_fuzz.cpp LIBS grove_proxy)
grove_fuzzer(proxy_auth SOURCES ${CMAKE_CURRENT_LIST_DIR}/proxy_auth_fuzz.cpp LIBS grove_proxy)
grove_fuzzer(proxy_url SOURCES ${CMAKE_CURRENT_LIST_DIR}/proxy_url_fuzz.cpp LIBS grove_proxy)

# Coverage counters in the code under test, as sstp.cmake does for grove_sstp (fuzz builds only).
target_compile_options(grove_proxy PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
target_link_options(grove_proxy INTERFACE -fsanitize=address,undefined)
