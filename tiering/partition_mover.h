// Moving one partition to the object store, as plain C++: the order of the steps, what is
// verified, and what is undone when a step fails (docs/tiering.md, "How a flush and a restore are
// made safe"). The table's side — its transactions, its chunks — is behind PartitionCatalog,
// which the columnar table implements over its shadow tables and a test can implement in memory.
//
//   flush_partition(store, catalog, plan):
//     1. catalog.record_intent(key)          the key is recorded (committed) before anything exists
//     2. catalog.write_rows(object)          the rows into a local Parquet file, one row group a chunk
//        object.finish()
//     3. upload_verified(store, key, object) create-only put; size, version tag, footer checked
//     4. catalog.commit(intent, stored, object)   one transaction swaps the partition's chunks
//     5. remove_retired(store, catalog)      the objects the commit replaced
//   A failure in 2–4 removes the object and then forgets the intent; when the object cannot be
//   removed, the intent stays, so that tier_gc finds the orphan by its key. A key that turns out
//   to be taken (the create-only put fails) is not this flush's object: it is never removed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "codecs/parquet/parquet_writer.h"
#include "ext/status.h"
#include "tiering/object_store.h"
#include "tiering/partition_object.h"

namespace strata::tiering {

class PartitionCatalog {
 public:
  virtual ~PartitionCatalog() = default;

  // Step 1, committed: the intent to write `key`; its id.
  virtual Result<int64_t> record_intent(const std::string& key) = 0;
  // Step 2: the partition's rows into `object` (PartitionObject::append_chunk, one per chunk), read
  // in one consistent state that commit() checks again. False when the partition has no row.
  virtual Result<bool> write_rows(PartitionObject& object) = 0;
  // Step 4, one transaction: the partition is still as write_rows() read it (else kBusy, nothing
  // changed), its chunks become the object's, the intent becomes live, and the objects it
  // replaces are retired.
  virtual Status commit(int64_t intent, const ObjectInfo& stored, const PartitionObject& object) = 0;
  // The intent is forgotten (its object is gone).
  virtual Status forget_intent(int64_t intent) = 0;
  // Retired objects to remove (after a commit): id and key.
  virtual Result<std::vector<std::pair<int64_t, std::string>>> retired_objects() = 0;
  // A retired object is forgotten (it was removed).
  virtual Status forget_object(int64_t object_id) = 0;
};

struct FlushPlan {
  std::string key;  // a fresh key (fresh_object_name) below the table's prefix
  std::vector<parquet::ColumnSpec> columns;
  parquet::WriterOptions options;
  std::string what;  // for messages: "tier_flush: table t: partition '2026-01-02'"
};

// Steps 1–5 above. True when the partition moved, false when it has no row (nothing is left
// behind then). Errors of steps 1–4 are returned as they are (with plan.what for the upload);
// a failure to remove retired objects afterwards is not an error (tier_gc removes them).
Result<bool> flush_partition(ObjectStore& store, PartitionCatalog& catalog, const FlushPlan& plan);

// Removes every retired object from the store, then forgets it; the first failure (the others
// are still tried).
Status remove_retired(ObjectStore& store, PartitionCatalog& catalog);

}  // namespace strata::tiering
