// The one place that includes Asio and names the coroutine helpers the net layer uses.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

namespace grove::net {

template <typename T = void>
using awaitable = asio::awaitable<T>;
// Completion token that returns (error_code, result...) instead of throwing: expected network
// errors are values (style.md rule 9).
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace grove::net
