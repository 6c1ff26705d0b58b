# Every build switch of Grove, in one place.
option(GROVE_WERROR "Treat compiler warnings as errors (CI turns this on)" OFF)
option(GROVE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(GROVE_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
option(GROVE_TESTS "Build the test suite" ON)
option(GROVE_BENCH "Build the Google Benchmark programs" ON)
