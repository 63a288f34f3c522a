#include "audit/verify.h"

#include <fstream>
#include <map>
#include <optional>

#include "audit/digest.h"
#include "audit/files.h"
#include "audit/record.h"
#include "crypto/wipe.h"

namespace coffer::audit {
namespace {

struct Line {
  std::size_t segment = 0;
  std::uint64_t line_no = 0;  // 1-based within its segment
  std::string text;
  bool terminated = true;
};

// Forward reader over all segments, with one line of lookahead.
class LineStream {
 public:
  explicit LineStream(const std::vector<SegmentFile>& segments) : segments_(segments) {}

  // Starts reading after line `line_no` of segment `segment`.
  Status SkipTo(std::size_t segment, std::uint64_t line_no) {
    seg_ = segment;
    Line ignored;
    while (seg_ == segment && line_no_ < line_no) {
      COFFER_ASSIGN_OR_RETURN(bool has, ReadRaw(&ignored));
      if (!has) break;
    }
    return Status::Ok();
  }

  Result<bool> Next(Line* out) {
    if (peeked_) {
      *out = std::move(*peeked_);
      peeked_.reset();
      return true;
    }
    return ReadRaw(out);
  }

  // The next line without consuming it; nullptr at the end.
  Result<const Line*> Peek() {
    if (!peeked_) {
      Line line;
      COFFER_ASSIGN_OR_RETURN(bool has, ReadRaw(&line));
      if (!has) return static_cast<const Line*>(nullptr);
      peeked_ = std::move(line);
    }
    return static_cast<const Line*>(&*peeked_);
  }

 private:
  Result<bool> ReadRaw(Line* out) {
    while (seg_ < segments_.size()) {
      if (!open_) {
        in_.open(segments_[seg_].path, std::ios::binary);
        if (!in_) {
          return Status::Unavailable("cannot open " + segments_[seg_].path +
                                     " (removed by retention meanwhile? run again)");
        }
        open_ = true;
        line_no_ = 0;
      }
      std::string text;
      if (std::getline(in_, text)) {
        out->segment = seg_;
        out->line_no = ++line_no_;
        out->terminated = !in_.eof();
        out->text = std::move(text);
        return true;
      }
      if (in_.bad()) return Status::Unavailable("cannot read " + segments_[seg_].path);
      in_.close();
      in_.clear();
      open_ = false;
      ++seg_;
    }
    return false;
  }

  const std::vector<SegmentFile>& segments_;
  std::size_t seg_ = 0;
  std::ifstream in_;
  bool open_ = false;
  std::uint64_t line_no_ = 0;
  std::optional<Line> peeked_;
};

struct Seal {
  std::string hash;
  std::uint64_t digest_line = 0;
};

struct Retention {
  std::uint64_t first_seq = 0;
  std::string hash;
  std::uint64_t digest_line = 0;
};

std::string Range(std::uint64_t from, std::uint64_t to) {
  if (from == to) return "record " + std::to_string(from);
  return "records " + std::to_string(from) + ".." + std::to_string(to);
}

class Verifier {
 public:
  Verifier(std::string dir, crypto::Keyring* keyring) : dir_(std::move(dir)), keyring_(keyring) {}

  VerifyReport Run() {
    if (ReadDigests() && WalkRecords()) report_.ok = true;
    return std::move(report_);
  }

 private:
  bool Fail(std::string message, std::uint64_t bad_seq) {
    report_.error = std::move(message);
    report_.bad_seq = bad_seq;
    return false;
  }

  std::string Where(const Line& line) const {
    return segments_[line.segment].name + " line " + std::to_string(line.line_no);
  }

  bool ReadDigests() {
    const std::string path = dir_ + "/" + std::string(kDigestsFileName);
    std::ifstream in(path, std::ios::binary);
    if (!in) return true;  // no digests yet
    std::string prev_hash(kGenesisHash);
    std::uint64_t last_sealed = 0;
    std::map<std::uint32_t, std::string> keys;
    std::string text;
    std::uint64_t k = 0;
    while (std::getline(in, text)) {
      ++k;
      const std::string where = std::string(kDigestsFileName) + " line " + std::to_string(k);
      if (in.eof()) {
        report_.warnings.push_back(where + " has no newline: a digest being written; not checked");
        break;
      }
      report_.digests = k;
      auto d = ParseDigestLine(text);
      if (!d.ok()) return Fail(where + ": not a digest line: " + d.status().message(), 0);
      if (d->prev_digest != prev_hash) {
        return Fail(where + ": prev_digest does not match the line before: a digest line was " +
                        "edited, removed, inserted or reordered",
                    0);
      }
      if (keyring_ != nullptr) {
        auto it = keys.find(d->key_version);
        if (it == keys.end()) {
          auto key = DigestKey(*keyring_, d->key_version);
          if (!key.ok()) {
            return Fail(where + ": master key version " + std::to_string(d->key_version) +
                            " is not available: " + key.status().message(),
                        0);
          }
          it = keys.emplace(d->key_version, std::move(key).value()).first;
        }
        if (!DigestSignatureValid(text, it->second)) {
          return Fail(where + ": the signature does not verify: the line was edited, or forged " +
                          "without the master key",
                      0);
        }
      }
      if (d->kind == DigestLine::Kind::kDigest) {
        if (d->seq < last_sealed) {
          return Fail(where + " seals record " + std::to_string(d->seq) +
                          ", below record " + std::to_string(last_sealed) +
                          " that an earlier digest sealed",
                      0);
        }
        auto [it, inserted] = seals_.emplace(d->seq, Seal{d->hash, k});
        if (!inserted && it->second.hash != d->hash) {
          return Fail(where + " seals record " + std::to_string(d->seq) +
                          " with a different hash than line " +
                          std::to_string(it->second.digest_line),
                      0);
        }
        last_sealed = d->seq;
      } else {
        retentions_[d->seq] = Retention{d->first_seq, d->hash, k};
      }
      prev_hash = LineHash(text);
    }
    for (auto& [version, key] : keys) crypto::Wipe(key);
    if (keyring_ == nullptr && report_.digests > 0) {
      report_.warnings.push_back("no master key given: digest signatures were not checked");
    }
    return true;
  }

  // Whether record `seq` appears after the current position of the walk.
  std::optional<std::string> FindLater(const Line& from, std::uint64_t seq) {
    LineStream stream(segments_);
    if (!stream.SkipTo(from.segment, from.line_no).ok()) return std::nullopt;
    Line line;
    while (true) {
      auto has = stream.Next(&line);
      if (!has.ok() || !*has) return std::nullopt;
      std::uint64_t s = 0;
      std::string_view prev;
      if (PeekChainFields(line.text, &s, &prev) && s == seq) return Where(line);
    }
  }

  // The record at `cur` (seq c, prev p) does not continue the chain. Names the first bad record.
  bool Classify(LineStream& stream, const Line& cur, std::uint64_t c, const std::string& p,
                const std::string& cur_hash) {
    const std::uint64_t expected = last_seq_ + 1;
    const std::string where = Where(cur);
    const std::string last_where = Where(last_line_);
    auto peeked = stream.Peek();
    const Line* next = peeked.ok() ? *peeked : nullptr;
    std::uint64_t nseq = 0;
    std::string_view nprev;
    const bool n_ok = next != nullptr && PeekChainFields(next->text, &nseq, &nprev);
    const std::string cs = std::to_string(c);
    const std::string ls = std::to_string(last_seq_);
    const std::string es = std::to_string(expected);

    if (c == expected) {  // the seq is right, the link is not
      if (n_ok && nseq == c && nprev == last_hash_) {
        return Fail(where + " (claims record " + cs + "): inserted: it is not part of the " +
                        "chain; record " + cs + " at " + Where(*next) + " links to record " + ls,
                    c);
      }
      const bool chain_goes_on = !n_ok || nprev == cur_hash;
      if (chain_goes_on && last_matched_seal_ != last_seq_) {
        return Fail("record " + ls + " (" + last_where + "): edited: its hash does not match " +
                        "the prev of record " + cs + " (" + where + ")",
                    last_seq_);
      }
      if (chain_goes_on) {
        return Fail("record " + cs + " (" + where + "): edited: its prev does not match " +
                        "record " + ls + ", which a digest sealed",
                    c);
      }
      return Fail("record " + cs + " (" + where + "): hash chain broken: prev does not match " +
                      "record " + ls,
                  c);
    }
    if (c > expected) {
      if (n_ok && nseq == expected) {
        if (LineHash(next->text) == p) {
          return Fail("record " + cs + " (" + where + "): reordered: it comes before record " +
                          es + " (" + Where(*next) + ")",
                      c);
        }
        if (nprev == last_hash_) {
          return Fail(where + " (claims record " + cs + "): inserted: it is not part of the " +
                          "chain; record " + es + " at " + Where(*next) + " links to record " +
                          ls,
                      c);
        }
      }
      if (auto later = FindLater(cur, expected)) {
        return Fail("record " + cs + " (" + where + "): reordered: it comes before record " + es +
                        " (" + *later + ")",
                    c);
      }
      if (p == last_hash_ && n_ok && nseq == expected + 1) {
        return Fail("record " + es + " (" + where + "): edited: its seq reads " + cs, expected);
      }
      return Fail("record " + cs + " (" + where + "): seq " + cs + " follows " + ls + ": " +
                      Range(expected, c - 1) + " missing (deleted)",
                  expected);
    }
    // c < expected: a seq seen already.
    if (c == last_seq_ && p == last_prev_ && n_ok && nprev == cur_hash) {
      return Fail(last_where + " (claims record " + cs + "): inserted: it is not part of the " +
                      "chain; the next record (" + Where(*next) + ") links to record " + cs +
                      " at " + where,
                  c);
    }
    if (n_ok && nseq == expected && nprev == last_hash_) {
      return Fail(where + " (claims record " + cs + "): inserted: it is not part of the chain; " +
                      "record " + es + " at " + Where(*next) + " links to record " + ls,
                  c);
    }
    return Fail("record " + cs + " (" + where + "): reordered: it appears after record " + ls, c);
  }

  bool WalkRecords() {
    auto segments = ListSegments(dir_);
    if (!segments.ok()) return Fail(segments.status().message(), 0);
    segments_ = std::move(segments).value();
    report_.segments = segments_.size();
    LineStream stream(segments_);
    bool have_last = false;
    Line cur;
    while (true) {
      auto has = stream.Next(&cur);
      if (!has.ok()) return Fail(has.status().message(), 0);
      if (!*has) break;
      const std::uint64_t expected = have_last ? last_seq_ + 1 : 0;
      if (!cur.terminated) {
        if (cur.segment + 1 == segments_.size()) {
          report_.warnings.push_back(Where(cur) + " has no newline: a record being written (or " +
                                     "torn, never acknowledged); not checked");
          break;
        }
        return Fail(Where(cur) + ": a line without newline inside a closed segment", expected);
      }
      auto parsed = ParseLine(cur.text);
      if (!parsed.ok()) {
        std::string what = Where(cur);
        if (have_last) what += " (expected record " + std::to_string(expected) + ")";
        return Fail(what + ": not a valid record: " + parsed.status().message(), expected);
      }
      const std::uint64_t c = parsed->seq;
      const std::string& p = parsed->prev;
      const std::string cur_hash = LineHash(cur.text);
      const std::string where = Where(cur);
      if (!have_last) {
        if (!Anchor(c, p, where)) return false;
        report_.first_seq = c;
        last_matched_seal_ = c - 1;  // what came before is vouched for by its anchor
      } else if (c != expected || p != last_hash_) {
        return Classify(stream, cur, c, p, cur_hash);
      }
      if (cur.line_no == 1 && segments_[cur.segment].first_seq != c) {
        return Fail(where + ": the segment is named for record " +
                        std::to_string(segments_[cur.segment].first_seq) +
                        " but starts with record " + std::to_string(c) + " (renamed?)",
                    c);
      }
      if (auto it = seals_.find(c); it != seals_.end()) {
        if (it->second.hash != cur_hash) {
          return Fail("record " + std::to_string(c) + " (" + where + ") does not match " +
                          std::string(kDigestsFileName) + " line " +
                          std::to_string(it->second.digest_line) + ", which sealed it: " +
                          Range(last_matched_seal_ + 1, c) + " were altered after sealing " +
                          "(the hash chain was rewritten without the master key)",
                      c);
        }
        last_matched_seal_ = c;
      }
      have_last = true;
      last_seq_ = c;
      last_prev_ = p;
      last_hash_ = cur_hash;
      last_line_ = Line{cur.segment, cur.line_no, {}, true};
      ++report_.records;
    }

    report_.last_seq = have_last ? last_seq_ : 0;
    for (const auto& [seq, seal] : seals_) {
      if (seq > report_.last_seq) {
        return Fail(std::string(kDigestsFileName) + " line " + std::to_string(seal.digest_line) +
                        " seals record " + std::to_string(seq) + ", but the trail ends at " +
                        (have_last ? "record " + std::to_string(last_seq_) : "no record") +
                        ": " + Range(report_.last_seq + 1, seq) + " deleted",
                    report_.last_seq + 1);
      }
      report_.last_sealed_seq = seq;
    }
    if (!have_last) {
      report_.warnings.push_back("the trail has no records yet");
    } else if (report_.last_sealed_seq < last_seq_) {
      report_.warnings.push_back(Range(std::max(report_.last_sealed_seq + 1, report_.first_seq),
                                       last_seq_) +
                                 " not yet sealed by a digest");
    }
    return true;
  }

  // The oldest retained record: record 1 with the genesis prev, or the record after a range
  // that a signed retention line says was removed, carrying the hash that line recorded.
  bool Anchor(std::uint64_t c, const std::string& p, const std::string& where) {
    const std::string cs = std::to_string(c);
    if (c == 1) {
      if (p != kGenesisHash) {
        return Fail("record 1 (" + where + "): edited: its prev is not the genesis value", 1);
      }
      return true;
    }
    auto it = retentions_.find(c - 1);
    if (it == retentions_.end()) {
      std::uint64_t from = 1;
      for (const auto& [seq, r] : retentions_) {
        if (seq < c) from = seq + 1;
      }
      return Fail("record " + cs + " (" + where + "): the trail starts here, but no signed " +
                      "retention line accounts for " + Range(from, c - 1) +
                      ": missing (deleted)",
                  from);
    }
    if (it->second.hash != p) {
      return Fail("record " + cs + " (" + where + "): hash chain broken: prev does not match " +
                      "the hash of record " + std::to_string(c - 1) + " that " +
                      std::string(kDigestsFileName) + " line " +
                      std::to_string(it->second.digest_line) + " recorded when retention " +
                      "removed it",
                  c);
    }
    return true;
  }

  std::string dir_;
  crypto::Keyring* keyring_;
  VerifyReport report_;
  std::vector<SegmentFile> segments_;
  std::map<std::uint64_t, Seal> seals_;
  std::map<std::uint64_t, Retention> retentions_;
  std::uint64_t last_seq_ = 0;
  std::string last_prev_;
  std::string last_hash_;
  Line last_line_;
  std::uint64_t last_matched_seal_ = 0;
};

}  // namespace

VerifyReport Verify(const std::string& dir, crypto::Keyring* keyring) {
  return Verifier(dir, keyring).Run();
}

}  // namespace coffer::audit
