# Idle-connection load generator for groved (idle_conns.cpp, run by idle_conns.sh). A plain
# program, not a Google Benchmark one: it drives a separate groved process and reads its RSS.
add_executable(bench_idle_conns ${CMAKE_CURRENT_LIST_DIR}/idle_conns.cpp)
target_link_libraries(bench_idle_conns PRIVATE grove_net fmt::fmt grove_flags)

# Sender/receiver with the A bit under control, for relay_vs_haproxy.sh and relay_vs_mosquitto.sh.
add_executable(bench_relay_client ${CMAKE_CURRENT_LIST_DIR}/relay_client.cpp)
target_link_libraries(bench_relay_client PRIVATE grove_net fmt::fmt grove_flags)
