#include "tests/unit/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace strata::testing {

namespace {

// What S3 answers when it wants a client to back off.
std::string slow_down_response() {
  const std::string body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
  return "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Case-blind search for a header line's value in a request head.
std::string header_value(std::string_view head, std::string_view name) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const size_t at = lower.find("\r\n" + std::string(name) + ":");
  if (at == std::string::npos) return "";
  size_t start = at + 3 + name.size();
  const size_t end = lower.find("\r\n", start);
  while (start < end && lower[start] == ' ') ++start;
  return lower.substr(start, end - start);
}

// One accepted connection: relayed to the upstream, or answered 503 once its request is read.
struct Connection {
  int client = -1;
  int upstream = -1;
  bool answer_503 = false;
  std::string head;           // the request head so far (503 connections)
  uint64_t body_left = 0;     // request body bytes still to discard (503 connections)
  bool head_done = false;

  ~Connection() {
    if (client >= 0) ::close(client);
    if (upstream >= 0) ::close(upstream);
  }
};

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      ::pipe(wake_) != 0) {
    problem_ = std::string("fault proxy: cannot listen: ") + std::strerror(errno);
    return;
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
}

void FaultProxy::answer_503_to_first(int count) {
  pending_503_ = count;
  const int asked = ++resets_asked_;
  const char byte = 'r';
  if (!thread_.joinable() || ::write(wake_[1], &byte, 1) != 1) return;
  while (resets_done_.load() < asked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FaultProxy::~FaultProxy() {
  if (thread_.joinable()) {
    const char byte = 'q';
    (void)!::write(wake_[1], &byte, 1);
    thread_.join();
  }
  for (int fd : {listener_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void FaultProxy::run() {
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<char> buffer(256 * 1024);
  while (true) {
    std::vector<pollfd> polled;
    polled.push_back({wake_[0], POLLIN, 0});
    if (!dead_) polled.push_back({listener_, POLLIN, 0});
    const size_t first_connection = polled.size();
    for (const auto& c : connections) {
      polled.push_back({c->client, POLLIN, 0});
      polled.push_back({c->upstream, static_cast<short>(c->upstream >= 0 ? POLLIN : 0), 0});
    }
    if (::poll(polled.data(), polled.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (polled[0].revents != 0) {
      char byte = 'q';
      if (::read(wake_[0], &byte, 1) != 1 || byte == 'q') return;
      connections.clear();
      resets_done_ = resets_asked_.load();
      continue;
    }
    if (!dead_ && (polled[1].revents & POLLIN)) {
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        auto connection = std::make_unique<Connection>();
        connection->client = client;
        int expected = pending_503_.load();
        while (expected > 0 && !pending_503_.compare_exchange_weak(expected, expected - 1)) {
        }
        connection->answer_503 = expected > 0;
        if (!connection->answer_503) connection->upstream = connect_to(upstream_port_);
        if (connection->answer_503 || connection->upstream >= 0) connections.push_back(std::move(connection));
      }
    }
    std::vector<bool> finished(connections.size(), false);
    // Only the connections that were polled (one accepted just now waits for the next round).
    const size_t polled_connections = (polled.size() - first_connection) / 2;
    for (size_t i = 0; i < polled_connections && !dead_; ++i) {
      Connection& c = *connections[i];
      const pollfd& from_client = polled[first_connection + 2 * i];
      const pollfd& from_upstream = polled[first_connection + 2 * i + 1];
      if (from_client.revents != 0) {
        const ssize_t n = ::recv(c.client, buffer.data(), buffer.size(), 0);
        if (n <= 0) {
          finished[i] = true;
          continue;
        }
        if (c.answer_503) {
          std::string_view data(buffer.data(), static_cast<size_t>(n));
          if (!c.head_done) {
            c.head.append(data);
            const size_t end = c.head.find("\r\n\r\n");
            if (end == std::string::npos) continue;
            c.head_done = true;
            const uint64_t received_body = c.head.size() - end - 4;
            const std::string length = header_value(c.head, "content-length");
            const uint64_t body = length.empty() ? 0 : std::stoull(length);
            // A client waiting for "100 Continue" sends no body: answer at once.
            c.body_left = header_value(c.head, "expect") == "100-continue" ? 0 : body - std::min(body, received_body);
          } else {
            c.body_left -= std::min<uint64_t>(c.body_left, static_cast<uint64_t>(n));
          }
          if (c.body_left == 0) {
            // Counted before the answer goes out: a client that has read it may ask at once.
            ++answered_503_;
            const std::string response = slow_down_response();
            write_all(c.client, response.data(), response.size());
            finished[i] = true;
          }
          continue;
        }
        if (!write_all(c.upstream, buffer.data(), static_cast<size_t>(n))) finished[i] = true;
        relayed_ += static_cast<uint64_t>(n);
      }
      if (c.upstream >= 0 && from_upstream.revents != 0) {
        const ssize_t n = ::recv(c.upstream, buffer.data(), buffer.size(), 0);
        if (n <= 0 || !write_all(c.client, buffer.data(), static_cast<size_t>(n))) {
          finished[i] = true;
          continue;
        }
        relayed_ += static_cast<uint64_t>(n);
      }
      if (relayed_ >= die_after_) dead_ = true;
    }
    if (dead_) {
      // The server is gone: connections reset, the port closed (new connections are refused).
      connections.clear();
      if (listener_ >= 0) {
        ::close(listener_);
        listener_ = -1;
      }
      continue;
    }
    for (size_t i = connections.size(); i-- > 0;) {
      if (finished[i]) connections.erase(connections.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

}  // namespace strata::testing
