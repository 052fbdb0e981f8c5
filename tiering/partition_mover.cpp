#include "tiering/partition_mover.h"

#include "ext/str_cat.h"

namespace strata::tiering {

Result<bool> flush_partition(ObjectStore& store, PartitionCatalog& catalog, const FlushPlan& plan) {
  STRATA_RETURN_IF_ERROR(check_object_key(store.location(), plan.key));
  // 1. The intent, committed before anything exists under the key.
  STRATA_ASSIGN_OR_RETURN(const int64_t intent, catalog.record_intent(plan.key));
  // From here on a failure removes the object, then forgets the intent; an object that cannot be
  // removed keeps its intent, so that tier_gc finds it by its key.
  auto abandon = [&](Status failure) -> Status {
    if (store.remove(plan.key).is_ok()) (void)catalog.forget_intent(intent);
    return failure;
  };

  // 2. The object, written locally.
  Result<PartitionObject> created = PartitionObject::create(plan.columns, plan.options);
  if (!created.is_ok()) return abandon(created.status());
  PartitionObject object = std::move(created).value();
  Result<bool> has_rows = catalog.write_rows(object);
  if (!has_rows.is_ok()) return abandon(has_rows.status());
  if (!*has_rows) {
    (void)abandon(Status::ok());
    return false;
  }
  if (Status finished = object.finish(); !finished.is_ok()) return abandon(finished);

  // 3. Upload under the fresh key, and verify what the store holds.
  Result<ObjectInfo> stored = upload_verified(store, plan.key, object);
  if (!stored.is_ok()) {
    Status failure(stored.status().code(), str_cat(plan.what, ": ", stored.status().message()));
    if (stored.status().code() == StatusCode::kConstraint) {
      // The key was taken (create-only): the object there is not this flush's, so it stays.
      (void)catalog.forget_intent(intent);
      return failure;
    }
    return abandon(failure);
  }

  // 4. One transaction makes the partition the object's.
  if (Status committed = catalog.commit(intent, *stored, object); !committed.is_ok()) return abandon(committed);

  // 5. The objects it replaced.
  (void)remove_retired(store, catalog);
  return true;
}

Status remove_retired(ObjectStore& store, PartitionCatalog& catalog) {
  STRATA_ASSIGN_OR_RETURN(auto retired, catalog.retired_objects());
  Status first_failure;
  for (const auto& [object_id, key] : retired) {
    Status removed = store.remove(key);
    if (removed.is_ok()) removed = catalog.forget_object(object_id);
    if (!removed.is_ok() && first_failure.is_ok()) first_failure = removed;
  }
  return first_failure;
}

}  // namespace strata::tiering
