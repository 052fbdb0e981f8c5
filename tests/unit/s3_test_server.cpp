#include "tests/unit/s3_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
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

S3TestServer::S3TestServer(Directory directory) : directory_(std::move(directory)) {
  std::filesystem::create_directories(directory_.path);
  // Tests run in parallel, each with its own server: ports are drawn at random, and a server
  // that loses a race for one (its node exits) is started again on others.
  std::mt19937 random(std::random_device{}());
  for (int attempt = 0; attempt < 20; ++attempt) {
    int candidate = 20000 + 2 * static_cast<int>(random() % 20000);  // the front; s3rver takes the next one
    if (!port_free(candidate) || !port_free(candidate + 1)) continue;
    port_ = candidate;
    start();
    if (problem_.empty() || problem_.starts_with("s3rver is not installed")) return;
  }
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
    problem_ = "s3rver is not installed: run scripts/install-test-peers.sh (scripts/test.sh does)";
    return;
  }
  const std::string port = std::to_string(port_);
  const std::string data = (std::filesystem::path(directory_.path) / "data").string();
  const std::string log = (std::filesystem::path(directory_.path) / "server.log").string();
  std::filesystem::remove(log);
  process_ = fork();
  if (process_ == 0) {
    setenv("NODE_PATH", modules.c_str(), 1);
    // The server logs to stderr; its start-up line tells this process that the port is its own.
    if (freopen(log.c_str(), "w", stderr) == nullptr) _exit(126);
    execlp("node", "node", script.c_str(), "--port", port.c_str(), "--dir", data.c_str(), "--bucket", kBucket, static_cast<char*>(nullptr));
    _exit(127);
  }
  // Another test's server may answer on this port for a moment (if two drew overlapping ports),
  // so readiness is this server saying it listens, not the port accepting connections.
  const std::string ready = "front listening on 127.0.0.1:" + port + " ";
  for (int waited = 0; waited < 400; ++waited) {
    std::ifstream lines(log);
    std::string text((std::istreambuf_iterator<char>(lines)), std::istreambuf_iterator<char>());
    if (text.find(ready) != std::string::npos && accepts(port_)) {
      problem_.clear();
      return;
    }
    int status = 0;
    if (waitpid(process_, &status, WNOHANG) == process_) {
      process_ = -1;
      problem_ = "the S3 test server exited at start-up: " + text.substr(0, 300);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  problem_ = "the S3 test server did not start within 10 s (is node installed?)";
}

void S3TestServer::stop() {
  if (process_ <= 0) return;
  kill(process_, SIGKILL);
  waitpid(process_, nullptr, 0);
  process_ = -1;
  for (int waited = 0; waited < 100 && accepts(port_); ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

ScopedAwsEnvironment::ScopedAwsEnvironment(const S3TestServer& server) {
  const tiering::S3Settings settings = server.settings();
  setenv("AWS_ACCESS_KEY_ID", settings.credentials.access_key_id.c_str(), 1);
  setenv("AWS_SECRET_ACCESS_KEY", settings.credentials.secret_access_key.c_str(), 1);
  setenv("AWS_REGION", settings.region.c_str(), 1);
  setenv("AWS_ENDPOINT_URL", settings.endpoint.c_str(), 1);
}

ScopedAwsEnvironment::~ScopedAwsEnvironment() {
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"}) unsetenv(name);
}

}  // namespace strata::testing
