#include "tests/unit/s3_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace strata::testing {

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = loopback(port);
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return free;
}

bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = loopback(port);
  bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

}  // namespace

S3TestServer::S3TestServer() {
  // The front takes the port, s3rver the next one.
  for (int candidate = 20000 + static_cast<int>(getpid() % 20000); candidate < 60000; candidate += 2) {
    if (port_free(candidate) && port_free(candidate + 1)) {
      port_ = candidate;
      break;
    }
  }
  start();
}

S3TestServer::~S3TestServer() { stop(); }

tiering::S3Settings S3TestServer::settings() const {
  tiering::S3Settings settings;
  settings.endpoint = endpoint();
  settings.region = "us-east-1";
  settings.credentials = {"S3RVER", "S3RVER", ""};
  settings.first_backoff_ms = 20;
  settings.max_backoff_ms = 200;
  return settings;
}

void S3TestServer::start() {
  const std::string modules = std::string(STRATA_SOURCE_DIR) + "/tests/peers/node_modules";
  const std::string script = std::string(STRATA_SHARED_DIR) + "/tools/s3-test-server.mjs";
  if (!std::filesystem::exists(modules + "/s3rver")) {
    problem_ = "s3rver is not installed: run 'npm ci' in tests/peers (scripts/test.sh does)";
    return;
  }
  const std::string port = std::to_string(port_);
  const std::string data = directory_.path("data");
  process_ = fork();
  if (process_ == 0) {
    setenv("NODE_PATH", modules.c_str(), 1);
    // Quiet: the server logs every request to stderr.
    FILE* quiet = freopen("/dev/null", "w", stderr);
    (void)quiet;
    execlp("node", "node", script.c_str(), "--port", port.c_str(), "--dir", data.c_str(), "--bucket", kBucket, static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int waited = 0; waited < 200; ++waited) {
    if (accepts(port_)) {
      problem_.clear();
      return;
    }
    int status = 0;
    if (waitpid(process_, &status, WNOHANG) == process_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  problem_ = "the S3 test server did not start (is node installed?)";
}

void S3TestServer::stop() {
  if (process_ <= 0) return;
  kill(process_, SIGKILL);
  waitpid(process_, nullptr, 0);
  process_ = -1;
  for (int waited = 0; waited < 100 && accepts(port_); ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace strata::testing
