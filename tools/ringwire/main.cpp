// tools/ringwire/main.cpp -- `ringwire`: look at the channels in shared memory from outside
// the processes that use them.
//
//   ringwire ls                        every segment: kind, size, capacity, who made it and
//                                      who holds it, alive or dead, abandoned or in use
//   ringwire stat NAME [--interval S] [--count N]
//                                      the channel's state words and counters, with rates
//   ringwire inspect NAME              the header field by field and the validation verdict
//   ringwire clean [--dry-run]         removes abandoned segments, saying why
//   ringwire top [-i S] [--sort K]     a live full-screen view; s sorts, q quits
//   ringwire export [--listen H:P]     Prometheus text format at /metrics (--once: stdout)
//   ringwire bridge out NAME --bind A  a byte-broadcast segment published over ZeroMQ
//   ringwire bridge in A --to NAME     ... and received into one on another host
//                                      (built where ringwire::net is: docs/bridge.md)
//   --json on every command; --dir DIR (default /dev/shm); --trust UID (repeatable)
//
// Segments are opened read-only and never joined: looking changes nothing (not even a join
// count), so the tool is safe against a live channel. Exit status: commands.hpp.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "ringwire/error.hpp"

int main(int argc, char** argv) {
  using namespace ringwire_tool;
  CLI::App app{"ringwire: look at ringwire channels in shared memory (read-only; clean removes abandoned names)"};
  app.require_subcommand(1);
  app.fallthrough();  // the options above are taken after the subcommand too
  common_options common;
  app.add_flag("--json", common.json, "one JSON document per report (schemas: docs/tools.md)");
  app.add_option("--dir", common.dir, "where the segments live")->capture_default_str();
  app.add_option("--trust", common.trust, "also trust segments owned by this uid (repeatable)");

  CLI::App* ls = app.add_subcommand("ls", "list every ringwire segment");
  CLI::App* stat = app.add_subcommand("stat", "a channel's state and counters, with rates per second");
  stat_options so;
  stat->add_option("name", so.name, "the segment, \"/name\"")->required();
  stat->add_option("-i,--interval", so.interval_s, "seconds between the snapshots a rate is taken over")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  stat->add_option("-n,--count", so.count, "reports to print; 0: until interrupted")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI::App* inspect = app.add_subcommand("inspect", "the header field by field and the validation verdict");
  std::string inspect_name;
  inspect->add_option("name", inspect_name, "the segment, \"/name\"")->required();
  CLI::App* top = app.add_subcommand("top", "a live view of every segment: rates, backlogs, stalls, dead peers");
  top_options to;
  top->add_option("-i,--interval", to.interval_s, "seconds between refreshes")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  top->add_option("--sort", to.sort, "rate, backlog or name (the s key cycles)")
      ->check(CLI::IsMember({"rate", "backlog", "name"}))
      ->capture_default_str();
  top->add_option("-n,--iterations", to.iterations, "refreshes before it exits; 0: until q")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI::App* exporter = app.add_subcommand("export", "serve every segment's numbers to Prometheus (/metrics)");
  export_options eo;
  exporter->add_option("--listen", eo.listen, "HOST:PORT to serve on (port 0: any free port, printed)")
      ->capture_default_str();
  exporter->add_flag("--once", eo.once, "print the page once to stdout instead of serving it");
  CLI::App* clean = app.add_subcommand("clean", "remove abandoned segments (nobody alive holds, made or uses them)");
  clean_options co;
  clean->add_flag("--dry-run", co.dry_run, "say what would be removed, remove nothing");

#ifdef RINGWIRE_TOOL_BRIDGE
  CLI::App* bridge = app.add_subcommand("bridge", "carry a byte-broadcast segment to other hosts over ZeroMQ");
  bridge->require_subcommand(1);
  bridge_options bo;
  CLI::App* bout = bridge->add_subcommand("out", "publish a segment's messages (PUB, or ROUTER with --lossless)");
  bout->add_option("segment", bo.segment, "the byte-broadcast segment, \"/name\"")->required();
  auto* bind_out = bout->add_option("--bind", bo.address, "ZeroMQ endpoint to bind (tcp://127.0.0.1:5556)");
  auto* conn_out = bout->add_option("--connect", bo.address, "ZeroMQ endpoint to connect to instead");
  bind_out->excludes(conn_out);
  bout->add_option("--batch", bo.batch, "messages per ZeroMQ message at most (1: no batching)")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  bout->add_option("--channel", bo.channel, "the channel id in the frames")->capture_default_str();
  CLI::App* bin = bridge->add_subcommand("in", "receive into a segment (created when missing)");
  bin->add_option("address", bo.address, "ZeroMQ endpoint to connect to (tcp://host:5556)")->required();
  bin->add_option("--to", bo.segment, "the byte-broadcast segment to write, \"/name\"")->required();
  bin->add_flag("--bind", bo.bind, "bind the address instead of connecting");
  bin->add_option("--window", bo.window, "lossless: messages the sender may have in flight")
      ->check(CLI::Range(1u, 1u << 24))
      ->capture_default_str();
  bin->add_option("--depth", bo.depth, "new segment: message entries (a power of two)")->capture_default_str();
  bin->add_option("--region", bo.region, "new segment: payload bytes (a power of two)")->capture_default_str();
  bin->add_option("--max-message", bo.max_message, "new segment: largest message")->capture_default_str();
  bin->add_option("--max-credited", bo.max_credited, "new segment: lossless readers at once")->capture_default_str();
  for (CLI::App* side : {bout, bin}) {
    side->add_flag("--lossless", bo.lossless, "credits and acknowledgements: back-pressure instead of gaps");
    side->add_option("--hwm", bo.hwm, "ZeroMQ high-water mark, in frames")->capture_default_str();
    side->add_flag("-v,--verbose", bo.verbose, "the bridge's counters on stderr every second");
  }
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int r = app.exit(e);  // prints the help or the error
    return r == 0 ? exit_ok : exit_usage;
  }
  try {
    if (ls->parsed()) return run_ls(common);
    if (stat->parsed()) return run_stat(common, so);
    if (inspect->parsed()) return run_inspect(common, inspect_name);
    if (clean->parsed()) return run_clean(common, co);
    if (top->parsed()) return run_top(common, to);
    if (exporter->parsed()) return run_export(common, eo);
#ifdef RINGWIRE_TOOL_BRIDGE
    if (bout->parsed()) {
      if (bo.address.empty()) throw std::invalid_argument("bridge out: --bind or --connect is required");
      bo.connect = conn_out->count() > 0;
      return run_bridge_out(common, bo);
    }
    if (bin->parsed()) return run_bridge_in(common, bo);
#endif
  } catch (const ringwire::error& e) {
    std::fprintf(stderr, "%s\n", e.what());  // "ringwire: <errc>: <what>"
    return exit_failed;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringwire: %s\n", e.what());
    return exit_failed;
  }
  return exit_usage;
}
