# SSTP engine fuzz target: the input is a peer's byte stream plus the owner's choices (see
# engine_fuzz.cpp). Seeds in corpus/engine/ come from the worked examples of sstp.md §14 and
# auth.md §9.
grove_fuzzer(engine SOURCES ${CMAKE_CURRENT_LIST_DIR}/engine_fuzz.cpp LIBS grove_engine)
target_compile_options(fuzz_engine PRIVATE -fno-sanitize-recover=undefined)

# grove_fuzzer() instruments only the target's own sources (sstp.cmake instruments grove_sstp).
# The engine and grove-auth need coverage counters and ASan checks too (fuzz builds only).
foreach(lib grove_engine grove_auth)
  target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                                        -fno-sanitize-recover=undefined)
  target_link_options(${lib} INTERFACE -fsanitize=address,undefined)
endforeach()
