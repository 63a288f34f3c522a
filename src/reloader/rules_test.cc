#include "reloader/rules.h"

#include <gtest/gtest.h>

namespace coffer::reloader {
namespace {

const SourceRef kDb{SourceKind::kSecret, "db"};
const SourceRef kApi{SourceKind::kSecret, "api-key"};
const SourceRef kUnused{SourceKind::kSecret, "unused"};
const SourceRef kSettings{SourceKind::kConfigMap, "settings"};

// A workload using Secrets db and api-key and ConfigMap settings, with `annotations` on its
// metadata (or, with on_template, on its pod template).
Workload Using(std::map<std::string, std::string> annotations, bool on_template = false) {
  Workload w;
  w.kind = "Deployment";
  w.ns = "ml";
  w.name = "web";
  (on_template ? w.template_annotations : w.annotations) = std::move(annotations);
  Container c;
  c.name = "app";
  c.env_refs = {kDb, kSettings};
  c.mounted_refs = {kApi};
  w.containers.push_back(c);
  return w;
}

SourceInfo Info(SourceRef ref, std::map<std::string, std::string> annotations = {}) {
  return SourceInfo{std::move(ref), std::move(annotations), {}};
}

TEST(ShouldReloadTest, TheAnnotationsAndTheirPrecedence) {
  const RuleOptions o;
  const auto yes = [&](const Workload& w, const SourceInfo& s) { return ShouldReload(w, s, o); };

  // Nothing asked for: nothing.
  EXPECT_FALSE(yes(Using({}), Info(kDb)));
  // auto: every used Secret and ConfigMap, nothing unused.
  const Workload autod = Using({{"reloader.stakater.com/auto", "true"}});
  EXPECT_TRUE(yes(autod, Info(kDb)));
  EXPECT_TRUE(yes(autod, Info(kApi)));
  EXPECT_TRUE(yes(autod, Info(kSettings)));
  EXPECT_FALSE(yes(autod, Info(kUnused)));
  EXPECT_FALSE(yes(Using({{"reloader.stakater.com/auto", "false"}}), Info(kDb)));
  // Typed auto: that kind only.
  const Workload secret_auto = Using({{"secret.reloader.stakater.com/auto", "true"}});
  EXPECT_TRUE(yes(secret_auto, Info(kDb)));
  EXPECT_FALSE(yes(secret_auto, Info(kSettings)));
  const Workload cm_auto = Using({{"configmap.reloader.stakater.com/auto", "true"}});
  EXPECT_FALSE(yes(cm_auto, Info(kDb)));
  EXPECT_TRUE(yes(cm_auto, Info(kSettings)));
  // Named reload: anchored regular expressions, used or not, per kind.
  const Workload named = Using({{"secret.reloader.stakater.com/reload", "unused, api-.*"}});
  EXPECT_TRUE(yes(named, Info(kUnused)));
  EXPECT_TRUE(yes(named, Info(kApi)));
  EXPECT_FALSE(yes(named, Info(kDb)));  // used, but not named
  EXPECT_FALSE(yes(named, Info({SourceKind::kConfigMap, "unused"})));
  EXPECT_FALSE(yes(Using({{"secret.reloader.stakater.com/reload", "d"}}), Info(kDb)));    // ^d$
  EXPECT_FALSE(yes(Using({{"secret.reloader.stakater.com/reload", "(db"}}), Info(kDb)));  // invalid
  EXPECT_TRUE(
      yes(Using({{"configmap.reloader.stakater.com/reload", "settings"}}), Info(kSettings)));
  // search + match: used sources annotated match only.
  const Workload search = Using({{"reloader.stakater.com/search", "true"}});
  EXPECT_FALSE(yes(search, Info(kDb)));
  EXPECT_TRUE(yes(search, Info(kDb, {{"reloader.stakater.com/match", "true"}})));
  EXPECT_FALSE(yes(search, Info(kUnused, {{"reloader.stakater.com/match", "true"}})));
  // auto and search together: auto wins.
  EXPECT_TRUE(
      yes(Using({{"reloader.stakater.com/search", "true"}, {"reloader.stakater.com/auto", "true"}}),
          Info(kDb)));
  // ignore on the source beats everything.
  EXPECT_FALSE(yes(autod, Info(kDb, {{"reloader.stakater.com/ignore", "true"}})));
  EXPECT_FALSE(yes(named, Info(kUnused, {{"reloader.stakater.com/ignore", "true"}})));
  // Excludes (exact names) beat auto and named reload.
  const Workload excluding =
      Using({{"reloader.stakater.com/auto", "true"},
             {"secrets.exclude.reloader.stakater.com/reload", "db, x"},
             {"configmaps.exclude.reloader.stakater.com/reload", "settings"}});
  EXPECT_FALSE(yes(excluding, Info(kDb)));
  EXPECT_TRUE(yes(excluding, Info(kApi)));
  EXPECT_FALSE(yes(excluding, Info(kSettings)));
  EXPECT_FALSE(yes(Using({{"secret.reloader.stakater.com/reload", "db"},
                          {"secrets.exclude.reloader.stakater.com/reload", "db"}}),
                   Info(kDb)));
}

TEST(ShouldReloadTest, PodTemplateAnnotationsWhenTheMetadataHasNone) {
  const RuleOptions o;
  EXPECT_TRUE(ShouldReload(Using({{"reloader.stakater.com/auto", "true"}}, true), Info(kDb), o));
  // The metadata's own annotation wins when present.
  Workload both = Using({{"reloader.stakater.com/auto", "true"}}, true);
  both.annotations = {{"reloader.stakater.com/auto", "false"}};
  EXPECT_FALSE(ShouldReload(both, Info(kDb), o));
  // Unrelated metadata annotations do not hide the template's.
  Workload unrelated = Using({{"reloader.stakater.com/auto", "true"}}, true);
  unrelated.annotations = {{"deployment.kubernetes.io/revision", "3"}};
  EXPECT_TRUE(ShouldReload(unrelated, Info(kDb), o));
}

TEST(ShouldReloadTest, AutoReloadAll) {
  RuleOptions o;
  o.auto_reload_all = true;
  EXPECT_TRUE(ShouldReload(Using({}), Info(kDb), o));
  EXPECT_FALSE(ShouldReload(Using({}), Info(kUnused), o));
  EXPECT_FALSE(ShouldReload(Using({{"reloader.stakater.com/auto", "false"}}), Info(kDb), o));
  EXPECT_FALSE(ShouldReload(Using({{"secret.reloader.stakater.com/auto", "false"}}), Info(kDb), o));
  EXPECT_TRUE(
      ShouldReload(Using({{"secret.reloader.stakater.com/auto", "false"}}), Info(kSettings), o));
}

TEST(WatchedSourcesTest, EverySourceTheRulesSelect) {
  const Workload w = Using({{"secret.reloader.stakater.com/auto", "true"},
                            {"configmap.reloader.stakater.com/reload", "other"}});
  const std::vector<SourceInfo> sources = {Info(kDb), Info(kUnused), Info(kSettings),
                                           Info({SourceKind::kConfigMap, "other"}), Info(kApi)};
  EXPECT_EQ(WatchedSources(w, sources, RuleOptions{}),
            (std::vector<SourceRef>{kDb, {SourceKind::kConfigMap, "other"}, kApi}));
}

TEST(CandidateSourcesTest, WhatTheWorkloadUsesUnlessAReloadAnnotationNamesSources) {
  const Candidates used = CandidateSources(Using({{"reloader.stakater.com/auto", "true"}}), {});
  EXPECT_EQ(used.refs, (std::set<SourceRef>{kDb, kApi, kSettings}));
  EXPECT_FALSE(used.all_secrets);
  EXPECT_FALSE(used.all_configmaps);

  const Candidates named =
      CandidateSources(Using({{"secret.reloader.stakater.com/reload", "unused, api-.*"}}), {});
  EXPECT_TRUE(named.all_secrets);
  EXPECT_FALSE(named.all_configmaps);
  const Candidates on_template = CandidateSources(
      Using({{"configmap.reloader.stakater.com/reload", "other"}}, /*on_template=*/true), {});
  EXPECT_FALSE(on_template.all_secrets);
  EXPECT_TRUE(on_template.all_configmaps);
  EXPECT_FALSE(
      CandidateSources(Using({{"secret.reloader.stakater.com/reload", " , "}}), {}).all_secrets);
}

TEST(CandidateSourcesTest, NoSourceOutsideTheCandidatesIsEverWatched) {
  const std::vector<SourceInfo> sources = {Info(kDb),
                                           Info(kApi, {{"reloader.stakater.com/match", "true"}}),
                                           Info(kUnused),
                                           Info(kSettings),
                                           Info({SourceKind::kConfigMap, "other"}),
                                           Info({SourceKind::kSecret, "api-extra"})};
  RuleOptions all;
  all.auto_reload_all = true;
  for (const RuleOptions& o : {RuleOptions{}, all}) {
    for (const auto& annotations : std::vector<std::map<std::string, std::string>>{
             {},
             {{"reloader.stakater.com/auto", "true"}},
             {{"reloader.stakater.com/search", "true"}},
             {{"secret.reloader.stakater.com/reload", "unused, api-.*"}},
             {{"configmap.reloader.stakater.com/reload", "other"}},
             {{"reloader.stakater.com/auto", "false"}}}) {
      const Workload w = Using(annotations);
      const Candidates c = CandidateSources(w, o);
      for (const SourceRef& ref : WatchedSources(w, sources, o)) {
        const bool all_of_kind = ref.kind == SourceKind::kSecret ? c.all_secrets : c.all_configmaps;
        EXPECT_TRUE(all_of_kind || c.refs.count(ref)) << ref.name;
      }
    }
  }
}

}  // namespace
}  // namespace coffer::reloader
