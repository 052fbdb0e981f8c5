// A TCP proxy on 127.0.0.1 in front of a test server, which injects the faults a real S3
// endpoint shows: "503 Slow Down" answers, and the server going away in the middle of a transfer.
//
//   FaultProxy proxy(server.port());
//   proxy.answer_503_to_first(2);      // the next two requests get 503, then requests pass
//   proxy.die_after_bytes(10 << 20);   // after 10 MiB relayed, every connection is cut and the
//                                      // port stops accepting: as if the server process died
//   settings.endpoint = proxy.endpoint();
//
// Requests pass unchanged (a SigV4 signature over the proxy's Host header stays valid). Used by
// the S3 store tests only; one thread, poll(2), no allocation per byte relayed.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace strata::testing {

class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Empty when listening; otherwise why not.
  const std::string& problem() const { return problem_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `count` connections have their request read whole and answered "503 Slow Down"
  // with Connection: close. Open connections are closed first (and this waits for that), so
  // that a client's next request opens a new one rather than reusing a kept-alive one.
  void answer_503_to_first(int count);
  // Once `bytes` (both directions together) have been relayed, every connection is closed and
  // no new one is accepted.
  void die_after_bytes(uint64_t bytes) { die_after_ = bytes; }

  int answered_503() const { return answered_503_; }
  uint64_t relayed_bytes() const { return relayed_; }
  bool dead() const { return dead_; }

 private:
  void run();

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // a pipe that ends run()
  std::string problem_;
  std::atomic<int> pending_503_{0};
  std::atomic<int> answered_503_{0};
  std::atomic<uint64_t> die_after_{UINT64_MAX};
  std::atomic<uint64_t> relayed_{0};
  std::atomic<bool> dead_{false};
  std::atomic<int> resets_asked_{0};
  std::atomic<int> resets_done_{0};
  std::thread thread_;
};

}  // namespace strata::testing
