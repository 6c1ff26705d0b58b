// Throughput of the SSTP codec on its hot path: Data commands with full 2048-byte payloads
// (sstp.md §5.14). Bytes/s count whole commands on the wire (2055 bytes each). Target: decoding
// through FrameReader at >= 2 GB/s.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "sstp/codec.hpp"

namespace {

using grove::Byte;
using grove::Bytes;
using grove::ByteView;
namespace sstp = grove::sstp;

constexpr std::size_t kCommandSize = sstp::kHeaderSize + 4 + sstp::kMaxDataPayload;  // 2055

Bytes payload() {
  Bytes p(sstp::kMaxDataPayload);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<Byte>(i * 31 + 7);
  return p;
}

// About 4 MiB of back-to-back Data commands, as they arrive on a busy connection.
Bytes data_stream() {
  const Bytes p = payload();
  Bytes stream;
  stream.reserve(4u << 20);
  for (std::uint32_t sid = 1; stream.size() + kCommandSize <= (4u << 20); sid += 2) {
    if (sstp::encode(sstp::Data{sid, p}, sstp::kMinor16, stream)) std::abort();
  }
  return stream;
}

void BM_EncodeData(benchmark::State& state) {
  const Bytes p = payload();
  Bytes out;
  out.reserve(kCommandSize);
  for (auto _ : state) {
    out.clear();
    auto ec = sstp::encode(sstp::Data{1, p}, sstp::kMinor16, out);
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kCommandSize));
}
BENCHMARK(BM_EncodeData);

void BM_EncodeDataHeader(benchmark::State& state) {
  const Bytes p = payload();
  Bytes out;
  out.reserve(kCommandSize);
  for (auto _ : state) {
    out.clear();
    sstp::encode_data_header(1, p.size(), out);
    out.insert(out.end(), p.begin(), p.end());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kCommandSize));
}
BENCHMARK(BM_EncodeDataHeader);

void BM_DecodeData(benchmark::State& state) {
  Bytes frame;
  if (sstp::encode(sstp::Data{1, payload()}, sstp::kMinor16, frame)) std::abort();
  sstp::Command cmd;
  for (auto _ : state) {
    auto ec = sstp::decode(frame, sstp::kMinor16, cmd);
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(cmd);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kCommandSize));
}
BENCHMARK(BM_DecodeData);

// FrameReader + decode over a 4 MiB buffer, fed in reads of `state.range(0)` bytes (0 = the whole
// buffer at once, the zero-copy path; smaller reads make commands straddle reads and be buffered).
void BM_FrameReaderDecode(benchmark::State& state) {
  const Bytes stream = data_stream();
  const auto read_size = static_cast<std::size_t>(state.range(0));
  std::size_t payload_bytes = 0;
  for (auto _ : state) {
    sstp::FrameReader reader;
    sstp::Command cmd;
    for (std::size_t pos = 0; pos < stream.size();) {
      const std::size_t n = read_size == 0 ? stream.size() : read_size;
      ByteView in = ByteView(stream).subspan(pos, std::min(n, stream.size() - pos));
      pos += in.size();
      while (!in.empty()) {
        const auto r = reader.next(in);
        if (r.error) std::abort();
        in = in.subspan(r.consumed);
        if (r.frame.empty()) continue;
        if (sstp::decode(r.frame, sstp::kMinor16, cmd)) std::abort();
        payload_bytes += std::get<sstp::Data>(cmd).application_data.size();
      }
    }
  }
  benchmark::DoNotOptimize(payload_bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_FrameReaderDecode)->Arg(0)->Arg(65536)->Arg(16384);

}  // namespace
