// What only the PostgreSQL backend does: a real server, its errors, its schema version, and
// retrying a lost connection. The behaviour every backend shares is in the conformance suite.

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/postgres_server.h"
#include "sysopt/storage/postgres_storage.h"
#include "sysopt/storage/storage.h"

namespace sysopt {
namespace {

using nlohmann::json;
using testing::PostgresServer;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::unique_ptr<Storage> MustOpen(const std::string& url) {
  auto s = OpenStorage(url);
  EXPECT_TRUE(s.ok()) << s.error().message();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(StorageUrlTest, PostgresUrlsAreTheirOwnKindAndPasswordsAreHidden) {
  EXPECT_EQ(ParseStorageUrl("postgresql://u@h:5/db").kind, StorageKind::kPostgres);
  EXPECT_EQ(ParseStorageUrl("postgres://u@h/db").kind, StorageKind::kPostgres);
  EXPECT_EQ(ParseStorageUrl("postgresql.db").kind, StorageKind::kSqlite);
  EXPECT_EQ(StorageFilePath("postgresql://u@h/db"), "");
  EXPECT_EQ(RedactStorageUrl("postgresql://u:pw@h:5/db"), "postgresql://u:***@h:5/db");
  EXPECT_EQ(RedactStorageUrl("postgresql://u@h:5/db"), "postgresql://u@h:5/db");
  EXPECT_EQ(RedactStorageUrl("postgresql://u:p@ss@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(RedactStorageUrl("s.db"), "s.db");
}

TEST(PostgresStorageTest, UnreachableServerIsInvalidInputNamingTheUrl) {
  // Port 1: nothing listens there.
  auto s = OpenStorage("postgresql://sysopt:pw@127.0.0.1:1/nodb");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(s.error().message(), "postgresql://sysopt:***@127.0.0.1:1/nodb"))
      << s.error().message();
  EXPECT_FALSE(Contains(s.error().message(), ":pw@"));
  EXPECT_TRUE(Contains(s.error().message(), "cannot connect")) << s.error().message();
}

TEST(PostgresStorageTest, WrongPasswordIsInvalidInputSayingSo) {
  PostgresServer& server = PostgresServer::Shared();
  auto s = OpenStorage(server.Url("postgres", "wrong"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(s.error().message(), "password authentication failed"))
      << s.error().message();
  EXPECT_FALSE(Contains(s.error().message(), "wrong"));
}

TEST(PostgresStorageTest, MissingDatabaseIsInvalidInput) {
  auto s = OpenStorage(PostgresServer::Shared().Url("no_such_db"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(s.error().message(), "no_such_db")) << s.error().message();
}

TEST(PostgresStorageTest, SchemaIsCreatedOnceAndVersioned) {
  PostgresServer& server = PostgresServer::Shared();
  const std::string url = server.NewDatabaseUrl();
  {
    auto storage = MustOpen(url);
    ASSERT_NE(storage, nullptr);
    ASSERT_TRUE(storage->CreateStudy("kept", json{{"a", 1}}, json::object()).ok());
  }
  // Opening again keeps what is there.
  auto again = MustOpen(url);
  ASSERT_NE(again, nullptr);
  auto found = again->FindStudy("kept");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((**found).spec, (json{{"a", 1}}));
}

TEST(PostgresStorageTest, RefusesAnotherSchemaVersionNamingBoth) {
  PostgresServer& server = PostgresServer::Shared();
  const std::string url = server.NewDatabaseUrl();
  ASSERT_NE(MustOpen(url), nullptr);
  const std::string db = url.substr(url.rfind('/') + 1);
  server.Execute(db, "UPDATE sysopt_schema SET version = 99");
  auto s = OpenStorage(url);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(s.error().message(), "schema version 99")) << s.error().message();
  EXPECT_TRUE(Contains(s.error().message(), "version " + std::to_string(kPostgresSchemaVersion)));
}

TEST(PostgresStorageTest, ProcessesCreatingTheSchemaTogetherAllSucceed) {
  const std::string url = PostgresServer::Shared().NewDatabaseUrl();
  constexpr int kProcesses = 6;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = OpenStorage(url);
      if (!s.ok()) {
        fprintf(stderr, "process %d: %s\n", p, s.error().message().c_str());
        _exit(10);
      }
      for (int i = 0; i < 10; ++i) {
        auto r = (*s)->ReserveTrial(1, TrialRequest{{Value(int64_t{i})}, "p", 1.0,
                                                    "k" + std::to_string(i), 0});
        // The study is created by the parent below before the children get here only by luck;
        // a NotFound study is fine, any other failure is not.
        if (!r.ok() && r.error().kind() != ErrorKind::kNotFound) _exit(11);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto storage = MustOpen(url);
  ASSERT_NE(storage, nullptr);
  auto studies = storage->ListStudies();
  ASSERT_TRUE(studies.ok());
  EXPECT_TRUE(studies->empty());
}

// The server goes away between two calls and comes back: the next call waits for it and
// succeeds, and what was stored before is all there. When it stays away longer than the retries
// last, the call is an IoError; once it is back the same storage serves again. A server of its
// own: the shared one serves other tests meanwhile.
TEST(PostgresStorageTest, LostConnectionIsRetriedUntilTheServerIsBack) {
  PostgresServer server;
  auto storage = MustOpen(server.NewDatabaseUrl());
  ASSERT_NE(storage, nullptr);
  auto study = storage->CreateStudy("s", json::object(), json::object());
  ASSERT_TRUE(study.ok());
  auto before = storage->CreateTrial(study->id, {Value(int64_t{1})}, "w", 1.0);
  ASSERT_TRUE(before.ok());
  server.Stop();
  std::thread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    server.Start();
  });
  auto during = storage->CreateTrial(study->id, {Value(int64_t{2})}, "w", 2.0);
  restart.join();
  ASSERT_TRUE(during.ok()) << during.error().message();
  EXPECT_EQ(during->number, 1);
  TrialOutcome done;
  done.values = {5.0};
  ASSERT_TRUE(storage->FinishTrial(during->id, done).ok());
  auto trials = storage->GetTrials(study->id);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 2u);
  EXPECT_EQ((*trials)[1].values, std::vector<double>{5.0});

  setenv("SYSOPT_STORAGE_RETRY_S", "0.5", 1);
  server.Stop();
  auto lost = storage->GetTrials(study->id);
  server.Start();
  unsetenv("SYSOPT_STORAGE_RETRY_S");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind(), ErrorKind::kIo);
  EXPECT_TRUE(Contains(lost.error().message(), "connection is lost")) << lost.error().message();
  auto back = storage->GetTrials(study->id);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->size(), 2u);
}

}  // namespace
}  // namespace sysopt
