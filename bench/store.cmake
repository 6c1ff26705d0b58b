# Append throughput of the SQLite store with group commit (store_bench.cpp).
grove_bench(store SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_bench.cpp LIBS grove_store)
