#pragma once

// The one STS action users reach for first: GetCallerIdentity (`aws sts get-caller-identity`),
// answered on the same endpoint as IAM. Query protocol (form in, XML out), SigV4 service "sts",
// Version 2011-06-15. Like AWS, it needs no permission: it only tells callers who they are.
// Every other STS action is InvalidAction (roles and temporary credentials come later).

#include <string_view>

#include "iam/iam_service.h"
#include "iam/query_api.h"

namespace coffer::iam {

inline constexpr std::string_view kStsXmlNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";
inline constexpr std::string_view kStsApiVersion = "2011-06-15";

// Answers one authenticated STS request. `service` resolves a user's id (UserId).
QueryResponse HandleSts(IamService& service, const QueryCall& call, std::string_view form_body);

}  // namespace coffer::iam
