#include "server/server.h"

#include <spdlog/spdlog.h>

#include "storage/recovery.h"

namespace ttfs::server {

Server::Server(Config config) : config_(std::move(config)) { resolve_defaults(config_); }

Server::~Server() { stop(); }

void Server::start() {
  const storage::StoreLayout layout(config_.data_dir);
  std::filesystem::create_directories(config_.data_dir);
  storage::recover(layout);  // logs what it finds

  storage::DiskWriterOptions store_options;
  store_options.direct_io = config_.direct_io;
  store_options.checkpoint_interval = config_.checkpoint_interval;
  store_options.retention = config_.retention;
  store_options.sync_method = config_.sync_method;
  store_ = std::make_unique<storage::LocalDiskStore>(
      config_.data_dir,
      [this](uint32_t owner, std::vector<storage::DiskCompletion>&& done) {
        workers_[owner]->post_store_completions(std::move(done));
      },
      std::move(store_options));

  // IO threads and workers refer to each other (events one way, replies the
  // other), so both are built before either starts.
  std::vector<net::IoThread*> io_raw;
  std::vector<transfer::Worker*> worker_raw;
  // Shared by every worker and IO thread: see their headers for why.
  task_quota_ =
      std::make_unique<transfer::TaskQuota>(config_.max_tasks, config_.max_tasks_per_user);
  connection_limiter_ = std::make_unique<net::ConnectionLimiter>(config_.io.connection_limits);
  for (unsigned w = 0; w < config_.workers; ++w) {
    workers_.push_back(
        std::make_unique<transfer::Worker>(w, config_.limits, *task_quota_, *store_));
  }
  for (auto& w : workers_) worker_raw.push_back(w.get());
  router_ = std::make_unique<transfer::Router>(config_.io_threads, worker_raw);
  for (unsigned i = 0; i < config_.io_threads; ++i) {
    io_threads_.push_back(std::make_unique<net::IoThread>(static_cast<uint16_t>(i), config_.io,
                                                          *router_, *connection_limiter_));
    io_raw.push_back(io_threads_.back().get());
  }
  for (auto& w : workers_) w->set_io_threads(io_raw);

  open_listeners();
  std::vector<transfer::Router::Address> advertised;
  for (const std::string& ip : config_.advertise_ips) advertised.push_back({ip, client_port_});
  router_->set_advertised_addresses(std::move(advertised));

  store_->start();
  for (auto& w : workers_) w->start();
  for (auto& io : io_threads_) io->start();
  running_ = true;
  spdlog::info("ttfsd: {} IO thread(s), {} worker(s), upload window {}, data in {}",
               config_.io_threads, config_.workers, config_.limits.upload_window,
               config_.data_dir.string());
}

void Server::open_listeners() {
  // Every IO thread gets its own socket on each port (SO_REUSEPORT), and the
  // kernel spreads new connections across them. A port of 0 is resolved by
  // the first bind, and the rest bind the port it got.
  auto bind_all = [&](const std::string& ip, uint16_t& port, net::PortKind kind) {
    for (auto& io : io_threads_) {
      UniqueFd fd = net::listen_tcp(ip, port, true);
      port = net::local_port(fd.get());
      io->add_listener(std::move(fd), kind);
    }
  };
  client_port_ = config_.client_port;
  for (const std::string& ip : config_.client_listen_ips) {
    bind_all(ip, client_port_, net::PortKind::kClient);
  }
  msg_server_port_ = config_.msg_server_port;
  bind_all(config_.msg_server_listen_ip, msg_server_port_, net::PortKind::kMsgServer);
}

void Server::stop_accepting() {
  if (!running_) return;
  for (auto& w : workers_) w->refuse_new_tasks();
  for (auto& io : io_threads_) io->stop_accepting();
}

uint64_t Server::transfers_in_flight() const {
  uint64_t total = 0;
  for (const auto& w : workers_)
    total += w->stats().transfers_in_flight.load(std::memory_order_acquire);
  return total;
}

void Server::stop() {
  if (!running_) return;
  running_ = false;
  for (auto& io : io_threads_) io->stop();
  for (auto& w : workers_) w->stop();
  store_->stop();
  spdlog::info("ttfsd: stopped; store flushed");
}

ServerStats Server::stats() const {
  ServerStats s;
  for (const auto& io : io_threads_) {
    s.connections_open += io->stats().open_connections.load(std::memory_order_relaxed);
    s.connections_accepted += io->stats().accepted.load(std::memory_order_relaxed);
    s.protocol_errors += io->stats().protocol_errors.load(std::memory_order_relaxed);
    s.refused_over_max_connections +=
        io->stats().refused_over_total.load(std::memory_order_relaxed);
    s.refused_over_per_ip += io->stats().refused_over_per_address.load(std::memory_order_relaxed);
    s.idle_timeouts += io->stats().idle_timeouts.load(std::memory_order_relaxed);
    s.login_timeouts += io->stats().login_timeouts.load(std::memory_order_relaxed);
    s.frame_timeouts += io->stats().frame_timeouts.load(std::memory_order_relaxed);
  }
  if (router_)
    s.protocol_errors += router_->stats().protocol_errors.load(std::memory_order_relaxed);
  for (const auto& w : workers_) {
    const auto& ws = w->stats();
    s.tasks_created += ws.tasks_created.load(std::memory_order_relaxed);
    s.tasks_live += ws.tasks_live.load(std::memory_order_relaxed);
    s.transfers_in_flight += ws.transfers_in_flight.load(std::memory_order_relaxed);
    s.refusals += ws.refusals.load(std::memory_order_relaxed);
    s.tasks_refused_over_max_tasks += ws.tasks_refused_over_total.load(std::memory_order_relaxed);
    s.tasks_refused_over_per_user += ws.tasks_refused_over_per_user.load(std::memory_order_relaxed);
    s.tasks_refused_file_size += ws.tasks_refused_file_size.load(std::memory_order_relaxed);
    s.segments_stored += ws.segments_stored.load(std::memory_order_relaxed);
    s.segments_served += ws.segments_served.load(std::memory_order_relaxed);
    s.segments_relayed += ws.segments_relayed.load(std::memory_order_relaxed);
    s.uploads_completed += ws.uploads_completed.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace ttfs::server
