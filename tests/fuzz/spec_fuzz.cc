// Fuzzes spec and T1 reading: any bytes give a spec or an error, never a crash; a spec's samples
// lie in its space.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sysopt/core/json.h"
#include "sysopt/core/rng.h"
#include "sysopt/space/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = sysopt::ParseJson(text);
  if (!json.ok()) return 0;
  auto spec = sysopt::ParseSpec(*json, "fuzz.json");
  if (!spec.ok()) {
    if (spec.error().message().empty()) abort();
    return 0;
  }
  const sysopt::Space& space = spec->space;
  const sysopt::FeasibleCount count = space.CountFeasible();
  (void)count.ToString();
  (void)spec->ToJson().dump();
  // Rejection sampling of a nearly empty set takes millions of tries: only sample sets that
  // are known not to be empty.
  if (count.exact && count.value >= 1) {
    sysopt::Rng rng(1);
    for (int t = 0; t < 3; ++t) {
      auto config = space.Sample(rng);
      if (!config.ok() || !space.Check(*config).ok()) abort();
    }
  }
  return 0;
}
