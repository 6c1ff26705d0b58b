// The store thread's connection and its cached statements: runs a batch of hot-path jobs in
// one transaction (group commit).
#pragma once

#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include "store/detail/jobs.hpp"
#include "store/detail/sqlite_db.hpp"

namespace grove::store::detail {

class HotPath {
 public:
  // Takes the connection and prepares the cached statements. A database whose tables do not
  // match the schema fails here with corrupt.
  [[nodiscard]] static std::error_code create(DbPtr db, const SqliteOptions& opts,
                                              std::unique_ptr<HotPath>& out, Failure& f);

  // Runs the jobs in order in one transaction (IMMEDIATE if any job writes, so the write lock
  // is taken up front and a busy writer is waited for with the busy timeout) and commits.
  // Each job's results are filled in. On failure the transaction is rolled back: nothing of
  // the batch is kept and every job of it fails with the returned error.
  // Call only from the store thread.
  [[nodiscard]] std::error_code run(std::vector<Job>& batch, Failure& f);

 private:
  HotPath(DbPtr db, std::uint64_t max_load_bytes)
      : db_(std::move(db)), max_load_bytes_(max_load_bytes) {}
  [[nodiscard]] int append(std::vector<Job>& batch, std::size_t first, std::size_t last);
  [[nodiscard]] int run_job(LoadJob& j);
  [[nodiscard]] int run_job(RemoveJob& j);
  [[nodiscard]] int run_job(PurgeJob& j);
  [[nodiscard]] int run_job(RegisterJob& j);
  [[nodiscard]] int step_done(sqlite3_stmt* st);

  DbPtr db_;  // declared first: destroyed after the statements
  std::uint64_t max_load_bytes_;
  StmtPtr begin_;
  StmtPtr begin_immediate_;
  StmtPtr commit_;
  StmtPtr rollback_;
  StmtPtr insert_;       // one row
  StmtPtr insert_many_;  // kRowsPerInsert rows
  StmtPtr last_id_;
  StmtPtr load_;
  StmtPtr remove_;
  StmtPtr register_;
  StmtPtr registered_;
  StmtPtr pending_total_;
  StmtPtr copy_pending_;
  StmtPtr purge_retained_;
  StmtPtr purge_expired_;
  std::uint64_t next_id_ = 0;         // the next copy's id; 0 = not read in this transaction
  std::vector<StoredMessage*> rows_;  // append's scratch list, kept to reuse its memory
};

}  // namespace grove::store::detail
