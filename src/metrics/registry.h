#pragma once

// A small, thread-safe metrics registry and the Prometheus text exposition format 0.0.4.
//
//   Registry registry;
//   auto& requests = registry.AddCounterFamily("app_requests_total", "Requests.", {"action"});
//   Counter& gets = requests.WithLabels("GetSecretValue");   // stable: cache it
//   gets.Inc();                                               // one relaxed atomic add
//   std::string text = registry.Render();
//
// Metric and label NAMES are programmer constants: they are checked with assert. Label VALUES may
// come from users (secret names), so Render() escapes them (\\, \", \n) and replaces invalid
// UTF-8 with U+FFFD; they never need checking by the caller.
//
// Values computed at scrape time come from collectors (AddCollector), which write gauge samples
// into a Writer. Everything is rendered in registration order; series within a family are sorted
// by label values, so the output is deterministic. A family without series is left out.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::metrics {

// The Content-Type of Render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(std::string_view name);

// A label value as it goes between the quotes: \ -> \\, " -> \", newline -> \n; invalid UTF-8
// bytes become U+FFFD.
std::string EscapeLabelValue(std::string_view value);
// A sample value or bucket bound: integers without a fraction, otherwise the shortest text that
// reads back as the same double; "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);

// 0.0001 s to 10 s, in 1-2.5-5 steps.
const std::vector<double>& DefaultLatencyBuckets();

// A monotonically increasing count. Inc is one relaxed atomic add.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Fixed buckets; Observe is lock-free (a binary search, one atomic increment and one atomic add).
class Histogram {
 public:
  // `bounds`: finite, strictly increasing upper bounds; the +Inf bucket is implicit.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double v);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    std::uint64_t count = 0;
    double sum = 0;
  };
  // Self-consistent counts: count is the +Inf bucket. (Sum may lag a concurrent Observe.)
  Snapshot Take() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  // counts_[i] observations in (bounds_[i-1], bounds_[i]]; the last one is the +Inf bucket.
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

namespace internal {

// What Registry keeps of each family.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Appends this family's # HELP, # TYPE and samples; nothing if it has no series.
  virtual void Render(std::string& out) const = 0;

 protected:
  void RenderHeader(std::string& out) const;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// `name{l1="v1",l2="v2"` + extra label (if any) + `}` - or just `name` without labels.
void AppendSeries(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  std::span<const std::string> values, std::string_view extra_name = {},
                  std::string_view extra_value = {});

}  // namespace internal

// A metric with label names; one child per distinct tuple of label values.
template <typename T>
class Family final : public internal::FamilyBase {
 public:
  // The child for these label values (exactly one per label name), created on first use. The
  // reference stays valid as long as the Registry: callers may cache it. Takes a mutex.
  template <typename... V>
  T& WithLabels(const V&... values) {
    const std::array<std::string_view, sizeof...(V)> array{std::string_view(values)...};
    return WithLabelValues(std::span<const std::string_view>(array));
  }
  T& WithLabelValues(std::initializer_list<std::string_view> values) {
    return WithLabelValues(std::span<const std::string_view>(values.begin(), values.size()));
  }
  T& WithLabelValues(std::span<const std::string_view> values);

  // The child for these label values if it exists (nullptr otherwise). Takes a mutex.
  T* Find(std::initializer_list<std::string_view> values) const;

  // Deletes the child for these label values (when its object is gone, as a controller does for
  // a deleted resource); true if it existed. References to it must no longer be used.
  bool Remove(std::initializer_list<std::string_view> values);

  // Number of distinct label-value tuples so far.
  std::size_t size() const;

  void Render(std::string& out) const override;

 private:
  friend class Registry;
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> labels,
         std::vector<double> bounds);

  const std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;  // guarded by mu_
};

// What a collector writes into at scrape time: gauge families and their samples. Duplicate
// series (same name and label values) keep the first value. Not thread-safe; one per Render().
class Writer {
 public:
  // Declares a gauge family; declaring the same name again is a no-op. Names are asserted valid.
  void DeclareGauge(std::string_view name, std::string_view help,
                    std::initializer_list<std::string_view> label_names);
  // A sample of a declared family: one value per label name.
  void Sample(std::string_view name, std::initializer_list<std::string_view> label_values,
              double value);

 private:
  friend class Registry;
  struct Fam {
    std::string name;
    std::string help;
    std::vector<std::string> label_names;
    std::map<std::vector<std::string>, double> samples;
  };
  Fam* Find(std::string_view name);
  std::vector<Fam> families_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registration asserts a valid, unused name and valid, distinct label names ("le" is reserved
  // in histograms). The families live as long as the Registry.
  Family<Counter>& AddCounterFamily(std::string name, std::string help,
                                    std::vector<std::string> label_names);
  Family<Gauge>& AddGaugeFamily(std::string name, std::string help,
                                std::vector<std::string> label_names);
  Family<Histogram>& AddHistogramFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds = DefaultLatencyBuckets());
  // Unlabelled metrics.
  Counter& AddCounter(std::string name, std::string help);
  Gauge& AddGauge(std::string name, std::string help);
  Histogram& AddHistogram(std::string name, std::string help,
                          std::vector<double> bounds = DefaultLatencyBuckets());

  // Called on every Render() before the families above are rendered (its samples still come
  // after theirs in the output). Concurrent scrapes may call it from several threads at once, so
  // it must be thread-safe. A collector family whose name is already registered is dropped (and
  // asserts).
  void AddCollector(std::function<void(Writer&)> collector);

  // The Prometheus text exposition format 0.0.4. Thread-safe.
  std::string Render() const;

 private:
  template <typename T>
  Family<T>& Add(std::string name, std::string help, MetricType type,
                 std::vector<std::string> label_names, std::vector<double> bounds);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<internal::FamilyBase>> families_;  // guarded by mu_
  std::vector<std::function<void(Writer&)>> collectors_;         // guarded by mu_
};

}  // namespace coffer::metrics
