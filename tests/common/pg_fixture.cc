// Starts (`pg_fixture start DIR`) or stops (`pg_fixture stop DIR`) the PostgreSQL server that
// the test programs of one CTest run share; see postgres_server.h.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "common/postgres_server.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pg_fixture start|stop DIR\n");
    return 2;
  }
  const std::string what = argv[1], dir = argv[2];
  try {
    if (what == "start") {
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      sysopt::testing::PostgresServer server(dir);
      std::printf("PostgreSQL test server on 127.0.0.1:%d, data in %s\n", server.port(),
                  dir.c_str());
      return 0;
    }
    if (what == "stop") {
      if (std::filesystem::exists(dir + "/port")) sysopt::testing::PostgresServer::StopIn(dir);
      std::filesystem::remove_all(dir);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_fixture %s: %s\n", what.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "pg_fixture: unknown action '%s'\n", what.c_str());
  return 2;
}
