#pragma once
/// \brief A real PostgreSQL server for tests: `initdb` and `pg_ctl` from Debian's postgresql
/// package into a temporary folder, listening on a free loopback port with its unix socket in
/// that folder, stopped (and the folder removed) at the end. PostgreSQL refuses to run as root,
/// so under root (as in CI) the server runs as the user `nobody` (uid 65534); as a normal
/// user it runs as that user.
///
/// The superuser is "sysopt" with password kPassword; connections over TCP need the password.
/// One server per test run (Shared()), one fresh database per test (NewDatabaseUrl()). Under
/// CTest the server is started once for all test programs by the fixture tests/common/pg_fixture
/// (its folder named by $SYSOPT_TEST_PG_STATE); a test program run by hand starts its own.

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/temp_dir.h"

namespace sysopt::testing {

class PostgresServer {
 public:
  static constexpr const char* kUser = "sysopt";
  static constexpr const char* kPassword = "s3cret";
  static constexpr uid_t kNobody = 65534;

  /// Folder of initdb and pg_ctl: $SYSOPT_PG_BIN, else the newest /usr/lib/postgresql/*/bin.
  static std::string BinDir() {
    if (const char* env = getenv("SYSOPT_PG_BIN")) return env;
    std::string best;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const std::string bin = (e.path() / "bin").string();
      if (std::filesystem::exists(bin + "/pg_ctl") && bin > best) best = bin;
    }
    if (best.empty()) {
      throw std::runtime_error(
          "no PostgreSQL server found under /usr/lib/postgresql (install Debian's postgresql "
          "package: scripts/setup.sh)");
    }
    return best;
  }

  /// Starts a new server in a temporary folder, or, with `state_dir`, in that folder (which
  /// must exist; the server is then left running for the owner to stop, see pg_fixture).
  explicit PostgresServer(const std::string& state_dir = "")
      : dir_(state_dir), bin_(BinDir()), port_(FreePort()) {
    if (getuid() == 0) {
      // Every folder on the way must let nobody in; mkdtemp made ours 0700.
      if (chown(dir_.path().c_str(), kNobody, kNobody) != 0) {
        throw std::runtime_error("cannot hand " + dir_.path().string() + " to nobody");
      }
    }
    WriteFile(dir_.File("pw"), std::string(kPassword) + "\n");
    if (getuid() == 0 && chown(dir_.File("pw").c_str(), kNobody, kNobody) != 0) {
      throw std::runtime_error("cannot hand the password file to nobody");
    }
    Must({bin_ + "/initdb", "-D", Data(), "-U", kUser, "--pwfile=" + dir_.File("pw"),
          "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
          "--no-sync"},
         "initdb");
    Start();
    WriteFile(dir_.File("port"), std::to_string(port_));
  }

  /// Attaches to a server started in `state_dir` by another process.
  struct Attach {};
  PostgresServer(Attach, const std::string& state_dir)
      : dir_(state_dir), bin_(BinDir()), port_(std::stoi(ReadFile(state_dir + "/port"))),
        attached_(true) {}

  ~PostgresServer() {
    // A forked child that exits normally must not stop the parent's server.
    if (getpid() == owner_ && running_ && !attached_ && !dir_.kept()) Stop();
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// The server of this test program, started on first use and stopped at exit.
  static PostgresServer& Shared() {
    static std::unique_ptr<PostgresServer> server = [] {
      const char* state = getenv("SYSOPT_TEST_PG_STATE");
      if (state != nullptr && std::filesystem::exists(std::string(state) + "/port")) {
        return std::make_unique<PostgresServer>(Attach{}, state);
      }
      return std::make_unique<PostgresServer>();
    }();
    return *server;
  }

  /// Stops a server started in `state_dir` (by pg_fixture).
  static void StopIn(const std::string& state_dir) {
    PostgresServer server(Attach{}, state_dir);
    server.Stop();
  }

  void Start() {
    Must({bin_ + "/pg_ctl", "-D", Data(), "-l", dir_.File("server.log"), "-w", "-t", "60", "-o",
          "-p " + std::to_string(port_) + " -k " + dir_.path().string() +
              " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
              "-c full_page_writes=off -c max_connections=200",
          "start"},
         "pg_ctl start");
    running_ = true;
  }

  /// Fast shutdown: clients are disconnected at once.
  void Stop() {
    Must({bin_ + "/pg_ctl", "-D", Data(), "-w", "-t", "60", "-m", "fast", "stop"}, "pg_ctl stop");
    running_ = false;
  }

  int port() const { return port_; }

  /// A URL to database `db` over TCP with the given password.
  std::string Url(const std::string& db, const std::string& password = kPassword) const {
    return "postgresql://" + std::string(kUser) + ":" + password + "@127.0.0.1:" +
           std::to_string(port_) + "/" + db;
  }

  /// Creates a new, empty database and returns its URL.
  std::string NewDatabaseUrl() {
    const std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++databases_);
    Execute("postgres", "CREATE DATABASE " + name);
    return Url(name);
  }

  /// Runs one SQL statement in database `db`; throws with the server's message on failure.
  void Execute(const std::string& db, const std::string& sql) const {
    PGconn* conn = PQconnectdb(Url(db).c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      const std::string message = PQerrorMessage(conn);
      PQfinish(conn);
      throw std::runtime_error("cannot connect to the test server: " + message);
    }
    PGresult* r = PQexec(conn, sql.c_str());
    const bool ok =
        PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    const std::string message = PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
    if (!ok) throw std::runtime_error(sql + ": " + message);
  }

 private:
  static int FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) close(fd);
      throw std::runtime_error("cannot find a free loopback port");
    }
    close(fd);
    return ntohs(addr.sin_port);
  }

  std::string Data() const { return dir_.File("data"); }

  // Runs a server tool to completion, as nobody when this process is root, its output into
  // tool.log (not a pipe: the server that pg_ctl starts keeps its output open for good).
  void Must(const std::vector<std::string>& argv, const std::string& what) const {
    const std::string log = dir_.File("tool.log");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int in = open("/dev/null", O_RDONLY);
      if (out < 0 || in < 0) _exit(125);
      dup2(in, 0);
      dup2(out, 1);
      dup2(out, 2);
      if (getuid() == 0) {
        const gid_t group = kNobody;
        if (setgroups(1, &group) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(126);
      }
      if (chdir(dir_.path().c_str()) != 0) _exit(126);
      execv(args[0], args.data());
      _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error(what + " failed (status " + std::to_string(status) + "): " +
                               ReadFile(log) + ReadFile(dir_.File("server.log")));
    }
  }

  // A temporary folder removed at the end, or a given one that is kept.
  class Folder {
   public:
    explicit Folder(const std::string& given) : given_(given) {
      if (given_.empty()) temp_ = std::make_unique<TempDir>();
    }
    std::filesystem::path path() const { return temp_ ? temp_->path() : given_; }
    std::string File(const std::string& name) const { return (path() / name).string(); }
    bool kept() const { return !temp_; }

   private:
    std::filesystem::path given_;
    std::unique_ptr<TempDir> temp_;
  };

  Folder dir_;
  const std::string bin_;
  const int port_;
  const pid_t owner_ = getpid();
  bool attached_ = false;
  bool running_ = true;
  int databases_ = 0;
};

}  // namespace sysopt::testing
