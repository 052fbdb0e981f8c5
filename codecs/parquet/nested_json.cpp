#include "codecs/parquet/nested_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "codecs/json_text.h"
#include "ext/civil_time.h"
#include "ext/str_cat.h"

namespace strata::parquet {

namespace {

// One row's value of a nested column while its leaves are read, before it becomes JSON.
struct Assembled {
  enum class Kind : uint8_t { kAbsent, kNull, kScalar, kObject, kArray };
  Kind kind = Kind::kAbsent;
  Value scalar;
  std::vector<Assembled> items;  // an object's fields (by child position) or an array's elements
};

Status damaged(const SchemaElement& root, std::string_view what) {
  return Status::corruption(str_cat("parquet: nested column '", root.name, "' ", what));
}

bool annotated_list(const SchemaElement& element) {
  return element.logical_type.kind == LogicalType::Kind::kList ||
         element.converted_type == static_cast<int32_t>(ConvertedType::kList);
}

bool annotated_map(const SchemaElement& element) {
  return element.logical_type.kind == LogicalType::Kind::kMap ||
         element.converted_type == static_cast<int32_t>(ConvertedType::kMap) ||
         element.converted_type == static_cast<int32_t>(ConvertedType::kMapKeyValue);
}

// A real as JSON: the shortest text that reads back as the same double, with ".0" on whole
// numbers (as DuckDB writes them); NaN and infinities, which JSON lacks, as null.
void append_real(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string_view text(buffer, static_cast<size_t>(end - buffer));
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

// A blob as DuckDB shows one: printable ASCII as it is, other bytes as \xHH.
std::string blob_text(std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string text;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      text += c;
    } else {
      text += "\\x";
      text += hex[byte >> 4];
      text += hex[byte & 0xf];
    }
  }
  return text;
}

// Dates and times as DuckDB's JSON writes them ("2021-02-03", "2021-02-03 04:05:06.5",
// "04:05:06", "+00" after values adjusted to UTC, " (BC)" after years before 1).
enum class TimeKind { kNone, kDate, kTime, kTimestamp };

struct TimeForm {
  TimeKind kind = TimeKind::kNone;
  int64_t units_per_second = 1;
  bool utc = false;
};

TimeForm time_form(const SchemaElement& element) {
  const LogicalType& logical = element.logical_type;
  const int64_t per_second[] = {1000000, 1000, 1000000, 1000000000};  // by time_unit (0: micros)
  TimeForm form;
  if (element.type == PhysicalType::kInt96) return {TimeKind::kTimestamp, 1000000, false};  // read as microseconds
  if (logical.kind == LogicalType::Kind::kDate || element.converted_type == static_cast<int32_t>(ConvertedType::kDate)) {
    form.kind = TimeKind::kDate;
  } else if (logical.kind == LogicalType::Kind::kTimestamp || logical.kind == LogicalType::Kind::kTime) {
    form.kind = logical.kind == LogicalType::Kind::kTime ? TimeKind::kTime : TimeKind::kTimestamp;
    form.units_per_second = per_second[std::clamp<int16_t>(logical.time_unit, 0, 3)];
    form.utc = logical.adjusted_to_utc && logical.time_unit != 3;
  } else if (element.converted_type) {
    switch (static_cast<ConvertedType>(*element.converted_type)) {
      case ConvertedType::kTimestampMillis: form = {TimeKind::kTimestamp, 1000, false}; break;
      case ConvertedType::kTimestampMicros: form = {TimeKind::kTimestamp, 1000000, false}; break;
      case ConvertedType::kTimeMillis: form = {TimeKind::kTime, 1000, false}; break;
      case ConvertedType::kTimeMicros: form = {TimeKind::kTime, 1000000, false}; break;
      default: break;
    }
  }
  return form;
}

// The civil date of a day count from 1970-01-01 (proleptic Gregorian).
void append_date(std::string& out, int64_t days) {
  const CivilDate date = civil_from_days(days);
  const int64_t month = date.month, day = date.day;
  int64_t year = date.year;
  const bool before_christ = year <= 0;
  if (before_christ) year = 1 - year;
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04lld-%02lld-%02lld", static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day));
  out += buffer;
  if (before_christ) out += " (BC)";
}

// Hours, minutes, seconds and the fraction without trailing zeros.
void append_time_of_day(std::string& out, int64_t units, int64_t units_per_second) {
  const int64_t seconds = units / units_per_second;
  int64_t fraction = units % units_per_second;
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  out += buffer;
  if (fraction == 0) return;
  int digits = 0;
  for (int64_t scale = units_per_second; scale > 1; scale /= 10) ++digits;
  std::string text = std::to_string(fraction);
  text.insert(0, static_cast<size_t>(digits) - text.size(), '0');
  while (!text.empty() && text.back() == '0') text.pop_back();
  out += '.';
  out += text;
}

void append_time_value(std::string& out, const TimeForm& form, int64_t value) {
  out += '"';
  if (form.kind == TimeKind::kDate) {
    append_date(out, value);
  } else {
    const int64_t units_per_day = 86400 * form.units_per_second;
    int64_t days = value / units_per_day, units = value % units_per_day;
    if (units < 0) {
      units += units_per_day;
      --days;
    }
    if (form.kind == TimeKind::kTimestamp) {
      // " (BC)" goes after the time, as DuckDB writes it.
      std::string date;
      append_date(date, days);
      const size_t bc = date.find(" (BC)");
      out += date.substr(0, bc);
      out += ' ';
      append_time_of_day(out, units, form.units_per_second);
      if (form.utc) out += "+00";
      if (bc != std::string::npos) out += " (BC)";
    } else {
      append_time_of_day(out, units, form.units_per_second);
      if (form.utc) out += "+00";
    }
  }
  out += '"';
}

class JsonWriter {
 public:
  JsonWriter(const std::vector<SchemaElement>& schema, const std::vector<SchemaNode>& nodes) : schema_(schema), nodes_(nodes) {}

  // The value of field `index` (as its parent holds it: a repeated field's value is the array
  // of its instances).
  void field(size_t index, const Assembled& value, std::string& out) const {
    if (nodes_[index].repeated) {
      out += '[';
      for (size_t i = 0; i < value.items.size(); ++i) {
        if (i > 0) out += ',';
        instance(index, value.items[i], out);
      }
      out += ']';
      return;
    }
    instance(index, value, out);
  }

 private:
  void instance(size_t index, const Assembled& value, std::string& out) const {
    if (value.kind == Assembled::Kind::kAbsent || value.kind == Assembled::Kind::kNull) {
      out += "null";
      return;
    }
    const SchemaNode& node = nodes_[index];
    const SchemaElement& element = schema_[index];
    if (node.leaf >= 0) {
      scalar(element, value.scalar, out);
      return;
    }
    if (node.children.size() == 1 && value.items.size() == 1 && nodes_[node.children[0]].repeated) {
      const size_t repeated = node.children[0];
      const Assembled& entries = value.items[0];
      if (annotated_list(element)) return list(element, repeated, entries, out);
      if (annotated_map(element) && !nodes_[repeated].children.empty()) return map(repeated, entries, out);
    }
    structure(index, value, out);
  }

  // LIST: the repeated child's instances are the elements; per the format's rules for files
  // written before the three-level form, the repeated group itself is the element when it has
  // several fields or is named "array" or "<list>_tuple", otherwise its single field is.
  void list(const SchemaElement& list_element, size_t repeated, const Assembled& entries, std::string& out) const {
    const SchemaNode& node = nodes_[repeated];
    const std::string& name = schema_[repeated].name;
    const bool group_is_element = node.leaf >= 0 || node.children.size() != 1 || name == "array" ||
                                  name == list_element.name + "_tuple";
    out += '[';
    for (size_t i = 0; i < entries.items.size(); ++i) {
      if (i > 0) out += ',';
      const Assembled& entry = entries.items[i];
      if (group_is_element || entry.items.size() != 1) {
        instance(repeated, entry, out);
      } else {
        field(node.children[0], entry.items[0], out);
      }
    }
    out += ']';
  }

  // MAP: an object from the key (as text) to the value of each key_value instance.
  void map(size_t repeated, const Assembled& entries, std::string& out) const {
    const SchemaNode& node = nodes_[repeated];
    out += '{';
    bool first = true;
    for (const Assembled& entry : entries.items) {
      if (entry.items.empty() || entry.items[0].kind != Assembled::Kind::kScalar) continue;  // keys are never NULL
      if (!first) out += ',';
      first = false;
      std::string key;
      scalar(schema_[node.children[0]], entry.items[0].scalar, key);
      if (!key.empty() && key.front() == '"') {
        out += key;
      } else {
        append_json_string(out, key);
      }
      out += ':';
      if (node.children.size() > 1 && entry.items.size() > 1) {
        field(node.children[1], entry.items[1], out);
      } else {
        out += "null";
      }
    }
    out += '}';
  }

  void structure(size_t index, const Assembled& value, std::string& out) const {
    const SchemaNode& node = nodes_[index];
    out += '{';
    for (size_t i = 0; i < node.children.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, schema_[node.children[i]].name);
      out += ':';
      static const Assembled kAbsent;
      field(node.children[i], i < value.items.size() ? value.items[i] : kAbsent, out);
    }
    out += '}';
  }

  void scalar(const SchemaElement& element, const Value& value, std::string& out) const {
    switch (value.type) {
      case ValueType::kNull: out += "null"; break;
      case ValueType::kInteger:
        if (element.type == PhysicalType::kBoolean) {
          out += value.integer != 0 ? "true" : "false";
        } else if (TimeForm form = time_form(element); form.kind != TimeKind::kNone) {
          append_time_value(out, form, value.integer);
        } else {
          out += std::to_string(value.integer);
        }
        break;
      case ValueType::kReal: append_real(out, value.real); break;
      case ValueType::kText: append_json_string(out, value.bytes); break;
      case ValueType::kBlob: append_json_string(out, blob_text(value.bytes)); break;
    }
  }

  const std::vector<SchemaElement>& schema_;
  const std::vector<SchemaNode>& nodes_;
};

}  // namespace

std::optional<std::string> time_json(const SchemaElement& element, int64_t value) {
  TimeForm form = time_form(element);
  if (form.kind == TimeKind::kNone) return std::nullopt;
  std::string out;
  append_time_value(out, form, value);
  return out;
}

Result<ColumnVector> assemble_json(const std::vector<SchemaElement>& schema, const std::vector<SchemaNode>& nodes,
                                   size_t root, const std::vector<LeveledValues>& leaves, int64_t rows) {
  const SchemaElement& root_element = schema[root];
  // Each leaf's path from the root, and at each step the position of the next node among the
  // children of the one before.
  struct LeafPath {
    std::vector<size_t> nodes;
    std::vector<size_t> child_position;
    size_t next = 0;  // the leaf's next entry
  };
  std::vector<LeafPath> paths;
  {
    std::vector<size_t> stack{root};
    std::vector<size_t> positions;
    auto walk = [&](auto&& self, size_t index) -> void {
      const SchemaNode& node = nodes[index];
      if (node.leaf >= 0) {
        paths.push_back({stack, positions, 0});
        return;
      }
      for (size_t i = 0; i < node.children.size(); ++i) {
        stack.push_back(node.children[i]);
        positions.push_back(i);
        self(self, node.children[i]);
        stack.pop_back();
        positions.pop_back();
      }
    };
    walk(walk, root);
  }
  if (paths.size() != leaves.size()) return Status::internal("parquet: nested column read with the wrong leaves");

  ColumnVector out;
  out.reserve(static_cast<size_t>(std::min<int64_t>(rows, 1 << 20)));
  JsonWriter writer(schema, nodes);
  std::vector<size_t> index_at;  // per path step: the element of its repeated node being written
  std::string json;
  for (int64_t row = 0; row < rows; ++row) {
    Assembled value;
    for (size_t l = 0; l < paths.size(); ++l) {
      LeafPath& path = paths[l];
      const LeveledValues& leaf = leaves[l];
      index_at.assign(path.nodes.size(), 0);
      bool first = true;
      while (path.next < leaf.definition.size()) {
        const size_t entry = path.next;
        const int repetition = leaf.repetition.empty() ? 0 : leaf.repetition[entry];
        if (first != (repetition == 0)) {
          if (first) return damaged(root_element, "has a row that does not start at repetition level 0");
          break;  // the next row starts here
        }
        if (!first) {
          // A new element of the repeated node at this level; the ones below start again.
          size_t step = path.nodes.size();
          for (size_t s = 0; s < path.nodes.size(); ++s) {
            const SchemaNode& node = nodes[path.nodes[s]];
            if (node.repeated && node.repetition == repetition) step = s;
          }
          if (step == path.nodes.size()) return damaged(root_element, "has a repetition level beyond its schema");
          ++index_at[step];
          for (size_t s = step + 1; s < path.nodes.size(); ++s) index_at[s] = 0;
        }
        first = false;
        ++path.next;
        const int definition = leaf.definition[entry];
        Assembled* slot = &value;
        for (size_t s = 0; s < path.nodes.size(); ++s) {
          const SchemaNode& node = nodes[path.nodes[s]];
          Assembled* target = slot;
          if (node.repeated) {
            if (slot->kind == Assembled::Kind::kAbsent) slot->kind = Assembled::Kind::kArray;
            if (slot->kind != Assembled::Kind::kArray) return damaged(root_element, "has leaves that disagree on its shape");
            if (definition < node.definition) break;  // an empty list
            if (index_at[s] == slot->items.size()) slot->items.emplace_back();
            if (index_at[s] >= slot->items.size()) return damaged(root_element, "skips a list element");
            target = &slot->items[index_at[s]];
          } else if (definition < node.definition) {
            if (slot->kind == Assembled::Kind::kAbsent) slot->kind = Assembled::Kind::kNull;
            break;
          }
          if (node.leaf >= 0) {
            target->kind = Assembled::Kind::kScalar;
            target->scalar = Value(leaf.values.get(entry));
            break;
          }
          if (target->kind == Assembled::Kind::kAbsent || target->kind == Assembled::Kind::kNull) {
            target->kind = Assembled::Kind::kObject;
            target->items.resize(node.children.size());
          }
          if (target->kind != Assembled::Kind::kObject || s + 1 >= path.nodes.size()) {
            return damaged(root_element, "has leaves that disagree on its shape");
          }
          slot = &target->items[path.child_position[s]];
        }
      }
      if (first) return damaged(root_element, "has fewer rows than its row group");
    }
    if (value.kind == Assembled::Kind::kNull || value.kind == Assembled::Kind::kAbsent) {
      out.append_null();
      continue;
    }
    json.clear();
    writer.field(root, value, json);
    out.append_text(json);
  }
  for (size_t l = 0; l < paths.size(); ++l) {
    if (paths[l].next != leaves[l].definition.size()) return damaged(root_element, "has more rows than its row group");
  }
  return out;
}

}  // namespace strata::parquet
