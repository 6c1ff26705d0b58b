# Header-only and source-shipped dependencies from Debian packages.

# Standalone Asio (libasio-dev), no Boost.
add_library(grove_asio INTERFACE)
target_compile_definitions(grove_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(grove_asio INTERFACE Threads::Threads)

# llhttp ships C sources, not a library (node-llhttp).
set(LLHTTP_SRC_DIR /usr/share/llhttp CACHE PATH "llhttp C sources")
set(LLHTTP_INC_DIR /usr/share/include/llhttp CACHE PATH "llhttp header")
add_library(grove_llhttp STATIC ${LLHTTP_SRC_DIR}/llhttp.c ${LLHTTP_SRC_DIR}/api.c ${LLHTTP_SRC_DIR}/http.c)
target_include_directories(grove_llhttp SYSTEM PUBLIC ${LLHTTP_INC_DIR})
set_target_properties(grove_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
target_compile_options(grove_llhttp PRIVATE -w)
