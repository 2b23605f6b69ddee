#include "run_phase.h"

#include <memory>
#include <thread>
#include <vector>

namespace ttfs::load {

bool run_phase(Phase& phase, uint32_t threads, uint32_t concurrency, ThreadStats& result,
               std::string& error) {
  std::vector<ThreadStats> stats(threads);
  std::vector<std::unique_ptr<ClientThread>> clients;
  for (uint32_t i = 0; i < threads; ++i) {
    const uint32_t slots = concurrency / threads + (i < concurrency % threads ? 1 : 0);
    clients.push_back(std::make_unique<ClientThread>(phase, slots, stats[i]));
    // Every msg-server connection is up before any transfer starts, so the
    // first seconds measure transfers, not connection set-up.
    if (!clients.back()->prepare(error)) return false;
  }
  std::vector<std::thread> running;
  for (auto& client : clients) running.emplace_back([&client] { client->run(); });
  for (auto& t : running) t.join();
  result = merge(stats);
  return true;
}

}  // namespace ttfs::load
