// TagResource and UntagResource (reference §1.12).

#include <algorithm>

#include "secrets/authorize.h"
#include "secrets/meta.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {

Status Service::TagResource(const CallContext& ctx, const TagResourceRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(ValidateTags(r.tags, options_.max_tags));
  internal::AuthExtras extras;
  extras.request_tags = &r.tags;
  auto written = EditMeta(ctx, "TagResource", r.secret_id, &extras, [&](SecretMeta& meta) {
    std::vector<Tag> tags = meta.tags;
    for (const Tag& tag : r.tags) UpsertTag(tags, tag.key, tag.value);
    if (tags.size() > static_cast<std::size_t>(options_.max_tags)) {
      return Status::InvalidArgument("A secret can have at most " +
                                     std::to_string(options_.max_tags) + " tags.");
    }
    meta.tags = std::move(tags);
    return Status::Ok();
  });
  return written.status();
}

Status Service::UntagResource(const CallContext& ctx, const UntagResourceRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  for (const auto& key : r.tag_keys)
    COFFER_RETURN_IF_ERROR(CheckLength("tagKeys.member", key, 1, 128));
  internal::AuthExtras extras;
  extras.tag_keys = &r.tag_keys;
  auto written = EditMeta(ctx, "UntagResource", r.secret_id, &extras, [&](SecretMeta& meta) {
    std::erase_if(meta.tags, [&](const Tag& tag) {
      return std::find(r.tag_keys.begin(), r.tag_keys.end(), tag.key) != r.tag_keys.end();
    });
    return Status::Ok();
  });
  return written.status();
}

}  // namespace coffer::secrets
