// From a URL a user writes in SQL to an object store and a key in it.
//
//   file:out/events.parquet        store file:out   (relative to the working directory), key events.parquet
//   file:/var/lake/e.parquet       store file:/var/lake, key e.parquet
//   s3://bucket/x/events.parquet   store s3://bucket/x, key events.parquet (AWS_* settings)
//   file:lake/events/              a prefix: store file:lake/events, key "" (for listing)
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ext/status.h"
#include "tiering/object_store.h"

namespace strata::tiering {

struct ObjectUrl {
  std::string location;  // "file:DIR" or "s3://bucket[/prefix]"
  std::string key;       // the last part; empty when the URL ends with '/'
};

// Splits `url`; an error (naming `who`) when it is neither file: nor s3://.
Result<ObjectUrl> split_object_url(std::string_view who, std::string_view url);

// Opens the store at a location ("file:DIR" creates DIR; "s3://…" reads AWS_* settings).
Result<std::unique_ptr<ObjectStore>> open_object_store(std::string_view location);

}  // namespace strata::tiering
