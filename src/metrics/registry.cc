#include "metrics/registry.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <set>
#include <type_traits>
#include <utility>

namespace coffer::metrics {
namespace {

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// The length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendUint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  assert(ec == std::errc());
  out.append(buf, end);
}

bool ValidLabelNames(const std::vector<std::string>& names) {
  std::set<std::string_view> seen;
  for (const auto& n : names) {
    if (!IsValidLabelName(n) || !seen.insert(n).second) return false;
  }
  return true;
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiAlpha(c) || c == '_' || c == ':' || (i > 0 && IsAsciiDigit(c));
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiAlpha(c) || c == '_' || (i > 0 && IsAsciiDigit(c));
    if (!ok) return false;
  }
  return true;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  std::size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c == '"') {
      out += "\\\"";
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (const std::size_t len = Utf8SequenceLength(value, i); len > 0) {
      out.append(value.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r;
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {  // 2^53
    r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(value));
  } else {
    // As Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus' own clients use: the
    // shortest round-trip digits, in fixed notation for decimal exponents -4 to 20.
    const int exponent = static_cast<int>(std::floor(std::log10(std::fabs(value))));
    const auto format =
        exponent >= -4 && exponent < 21 ? std::chars_format::fixed : std::chars_format::scientific;
    r = std::to_chars(buf, buf + sizeof buf, value, format);
  }
  assert(r.ec == std::errc());
  return std::string(buf, r.ptr);
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                               1,      2.5,     5,      10};
  return kBuckets;
}

// --- Histogram -----------------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    assert(std::isfinite(bounds_[i]) && "histogram bounds must be finite");
    assert((i == 0 || bounds_[i - 1] < bounds_[i]) && "histogram bounds must increase");
  }
}

void Histogram::Observe(double v) {
  // The first bound >= v: Prometheus buckets are "less than or equal". NaN goes to +Inf.
  std::size_t i = bounds_.size();
  if (!std::isnan(v)) {
    i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                 bounds_.begin());
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// --- families ------------------------------------------------------------------------------------

namespace internal {

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {
  assert(IsValidMetricName(name_) && "invalid metric name");
  assert(ValidLabelNames(label_names_) && "invalid or repeated label name");
}

void FamilyBase::RenderHeader(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += EscapeHelp(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += TypeName(type_);
  out += '\n';
}

void AppendSeries(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  std::span<const std::string> values, std::string_view extra_name,
                  std::string_view extra_value) {
  assert(names.size() == values.size());
  out += name;
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;  // our own text (a bucket bound): nothing to escape
    out += '"';
  }
  out += '}';
}

}  // namespace internal

template <typename T>
Family<T>::Family(std::string name, std::string help, MetricType type,
                  std::vector<std::string> labels, std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), type, std::move(labels)),
      bounds_(std::move(bounds)) {}

template <typename T>
T& Family<T>::WithLabelValues(std::span<const std::string_view> values) {
  assert(values.size() == label_names_.size() && "one value per label name");
  std::vector<std::string> key(values.begin(), values.end());
  std::lock_guard lock(mu_);
  auto it = children_.find(key);
  if (it == children_.end()) {
    std::unique_ptr<T> child;
    if constexpr (std::is_same_v<T, Histogram>) {
      child = std::make_unique<Histogram>(bounds_);
    } else {
      child = std::make_unique<T>();
    }
    it = children_.emplace(std::move(key), std::move(child)).first;
  }
  return *it->second;
}

template <typename T>
T* Family<T>::Find(std::initializer_list<std::string_view> values) const {
  assert(values.size() == label_names_.size() && "one value per label name");
  const std::vector<std::string> key(values.begin(), values.end());
  std::lock_guard lock(mu_);
  auto it = children_.find(key);
  return it == children_.end() ? nullptr : it->second.get();
}

template <typename T>
bool Family<T>::Remove(std::initializer_list<std::string_view> values) {
  assert(values.size() == label_names_.size() && "one value per label name");
  const std::vector<std::string> key(values.begin(), values.end());
  std::lock_guard lock(mu_);
  return children_.erase(key) > 0;
}

template <typename T>
std::size_t Family<T>::size() const {
  std::lock_guard lock(mu_);
  return children_.size();
}

template <typename T>
void Family<T>::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (children_.empty()) return;
  RenderHeader(out);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      const Histogram::Snapshot snap = child->Take();
      const std::string bucket = name_ + "_bucket";
      for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        const std::string le = i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
        internal::AppendSeries(out, bucket, label_names_, values, "le", le);
        out += ' ';
        AppendUint(out, snap.cumulative[i]);
        out += '\n';
      }
      internal::AppendSeries(out, name_ + "_sum", label_names_, values);
      out += ' ';
      out += FormatValue(snap.sum);
      out += '\n';
      internal::AppendSeries(out, name_ + "_count", label_names_, values);
      out += ' ';
      AppendUint(out, snap.count);
      out += '\n';
    } else {
      internal::AppendSeries(out, name_, label_names_, values);
      out += ' ';
      if constexpr (std::is_same_v<T, Counter>) {
        AppendUint(out, child->Value());
      } else {
        out += FormatValue(child->Value());
      }
      out += '\n';
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Writer --------------------------------------------------------------------------------------

Writer::Fam* Writer::Find(std::string_view name) {
  for (auto& f : families_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void Writer::DeclareGauge(std::string_view name, std::string_view help,
                          std::initializer_list<std::string_view> label_names) {
  std::vector<std::string> names(label_names.begin(), label_names.end());
  if (Fam* existing = Find(name)) {
    assert(existing->label_names == names && "gauge declared twice with other labels");
    return;
  }
  assert(IsValidMetricName(name) && "invalid metric name");
  assert(ValidLabelNames(names) && "invalid or repeated label name");
  families_.push_back(Fam{std::string(name), std::string(help), std::move(names), {}});
}

void Writer::Sample(std::string_view name, std::initializer_list<std::string_view> label_values,
                    double value) {
  Fam* fam = Find(name);
  assert(fam != nullptr && "Sample() of an undeclared gauge");
  if (fam == nullptr) return;
  assert(label_values.size() == fam->label_names.size() && "one value per label name");
  if (label_values.size() != fam->label_names.size()) return;
  fam->samples.emplace(std::vector<std::string>(label_values.begin(), label_values.end()), value);
}

// --- Registry ------------------------------------------------------------------------------------

template <typename T>
Family<T>& Registry::Add(std::string name, std::string help, MetricType type,
                         std::vector<std::string> label_names, std::vector<double> bounds) {
  assert((type != MetricType::kHistogram ||
          std::find(label_names.begin(), label_names.end(), "le") == label_names.end()) &&
         "\"le\" is reserved in histograms");
  // Family's constructor is private; Registry is its friend.
  std::unique_ptr<Family<T>> family(new Family<T>(std::move(name), std::move(help), type,
                                                  std::move(label_names), std::move(bounds)));
  Family<T>& ref = *family;
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    assert(f->name() != ref.name() && "metric registered twice");
    (void)f;
  }
  families_.push_back(std::move(family));
  return ref;
}

Family<Counter>& Registry::AddCounterFamily(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  return Add<Counter>(std::move(name), std::move(help), MetricType::kCounter,
                      std::move(label_names), {});
}

Family<Gauge>& Registry::AddGaugeFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  return Add<Gauge>(std::move(name), std::move(help), MetricType::kGauge, std::move(label_names),
                    {});
}

Family<Histogram>& Registry::AddHistogramFamily(std::string name, std::string help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> bounds) {
  return Add<Histogram>(std::move(name), std::move(help), MetricType::kHistogram,
                        std::move(label_names), std::move(bounds));
}

Counter& Registry::AddCounter(std::string name, std::string help) {
  return AddCounterFamily(std::move(name), std::move(help), {}).WithLabels();
}

Gauge& Registry::AddGauge(std::string name, std::string help) {
  return AddGaugeFamily(std::move(name), std::move(help), {}).WithLabels();
}

Histogram& Registry::AddHistogram(std::string name, std::string help, std::vector<double> bounds) {
  return AddHistogramFamily(std::move(name), std::move(help), {}, std::move(bounds)).WithLabels();
}

void Registry::AddCollector(std::function<void(Writer&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Render() const {
  std::vector<const internal::FamilyBase*> families;
  std::vector<std::function<void(Writer&)>> collectors;
  {
    std::lock_guard lock(mu_);
    families.reserve(families_.size());
    for (const auto& f : families_) families.push_back(f.get());
    collectors = collectors_;
  }
  // Collectors run first, so that a metric a collector updates (say, a count of its own
  // failures) is rendered with this scrape's value.
  Writer writer;
  for (const auto& c : collectors) c(writer);

  std::string out;
  out.reserve(4096);
  for (const auto* f : families) f->Render(out);
  for (const auto& fam : writer.families_) {
    const bool clash = std::any_of(families.begin(), families.end(),
                                   [&](const auto* f) { return f->name() == fam.name; });
    assert(!clash && "a collector's gauge has a registered metric's name");
    if (clash || fam.samples.empty()) continue;
    out += "# HELP ";
    out += fam.name;
    out += ' ';
    out += EscapeHelp(fam.help);
    out += "\n# TYPE ";
    out += fam.name;
    out += " gauge\n";
    for (const auto& [values, value] : fam.samples) {
      internal::AppendSeries(out, fam.name, fam.label_names, values);
      out += ' ';
      out += FormatValue(value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace coffer::metrics
