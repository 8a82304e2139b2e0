// An order-checking pipeline shaped like a diamond, every stage on its own thread:
//
//   "id,qty,price" --parse--> order --+--> notional (enrich A: qty * price) ---+--> join --> filter --> out
//                                     +--> limit check (enrich B: may reject) --+
//
// Branch B drops an order by returning std::nullopt (a marker, so the join stays aligned:
// every branch emits exactly one result per order); the join combines the i-th result of
// both branches; the filter keeps accepted orders only. The feed closes its input when
// done, the pipeline drains in order, and main checks that every accepted order arrived,
// exactly once, in order, with the right notional, and that the pipeline finished cleanly.
//
//   build/release/examples/pipeline [orders]
#include <ringwire/pipeline.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace rp = ringwire::pipeline;

struct order {
  std::uint64_t id;
  std::uint64_t qty;
  std::uint64_t price_cents;
};

struct checked {
  std::uint64_t id;
  std::uint64_t notional_cents;
  bool accepted;
};

constexpr std::uint64_t max_qty = 900;  // branch B rejects larger orders

order parse(const std::string& line) {
  order o{};
  char* rest = nullptr;
  o.id = std::strtoull(line.c_str(), &rest, 10);
  o.qty = std::strtoull(rest + 1, &rest, 10);
  o.price_cents = std::strtoull(rest + 1, nullptr, 10);
  return o;
}

// The feed's deterministic order stream, shared with the check in main.
std::uint64_t qty_of(std::uint64_t id) { return (id * 7919) % 1000 + 1; }
std::uint64_t price_of(std::uint64_t id) { return 100 + (id * 31) % 5000; }

int main(int argc, char** argv) {
  const std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000;

  auto [in, out, pipe] =
      rp::source<std::string>(64)
          .then(rp::named("parse", parse))
          .fan_out(rp::named("notional", [](order o) { return std::pair{o.id, o.qty * o.price_cents}; }),
                   rp::named("limit check",
                             [](order o) -> std::optional<std::uint64_t> {
                               if (o.qty > max_qty) return std::nullopt;  // rejected: the marker
                               return o.id;
                             }))
          .join(rp::named("combine",
                          [](std::pair<std::uint64_t, std::uint64_t> notional, std::optional<std::uint64_t> ok) {
                            return checked{notional.first, notional.second, ok.has_value() && *ok == notional.first};
                          }))
          .filter(rp::named("accepted only", [](const checked& c) { return c.accepted; }))
          .build();

  std::jthread feed([in = std::move(in), total]() mutable {
    for (std::uint64_t id = 0; id < total; ++id) {
      std::string line = std::to_string(id) + "," + std::to_string(qty_of(id)) + "," + std::to_string(price_of(id));
      if (in.send(std::move(line)) != ringwire::status::ok) return;  // the pipeline stopped
    }
  });  // the sender's destructor closes the input: every stage drains and ends

  std::uint64_t received = 0;
  std::uint64_t next_id = 0;
  std::uint64_t expected = 0;
  bool ok = true;
  while (auto r = out.recv()) {
    while (next_id < total && qty_of(next_id) > max_qty) ++next_id;  // the ones branch B rejects
    const std::uint64_t want = qty_of(next_id) * price_of(next_id);
    if (r->id != next_id || r->notional_cents != want) {
      std::fprintf(stderr, "wrong order: got id %llu notional %llu, expected id %llu notional %llu\n",
                   static_cast<unsigned long long>(r->id), static_cast<unsigned long long>(r->notional_cents),
                   static_cast<unsigned long long>(next_id), static_cast<unsigned long long>(want));
      ok = false;
      break;
    }
    ++next_id;
    ++received;
  }
  for (std::uint64_t id = 0; id < total; ++id) expected += qty_of(id) <= max_qty ? 1 : 0;

  pipe.join();
  const rp::health_report h = pipe.health();
  const auto names = pipe.stage_names();
  std::printf("pipeline of %zu stages:", names.size());
  for (std::size_t i = 0; i < names.size(); ++i) std::printf("%s [%zu] %s", i == 0 ? "" : ",", i, names[i].c_str());
  std::printf("\nfed %llu orders; %llu accepted and received in order (expected %llu); state: %s\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(received),
              static_cast<unsigned long long>(expected), rp::to_string(h.state));
  if (h.failed()) std::fprintf(stderr, "stage %zu (%s) failed: %s\n", h.failed_stage, h.failed_stage_name.c_str(), h.what.c_str());
  return ok && received == expected && h.state == rp::run_state::finished ? 0 : 1;
}
