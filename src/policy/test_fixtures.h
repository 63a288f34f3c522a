#pragma once

// Principals, secret ARNs and the seed guide's ExternalSecretsPolicy (ACCOUNT_ID replaced by
// 000000000000), shared by the policy component's tests.

namespace coffer::policy::test_fixtures {

inline constexpr char kAlice[] = "arn:aws:iam::000000000000:user/alice";
inline constexpr char kBob[] = "arn:aws:iam::000000000000:user/bob";
inline constexpr char kRoot[] = "arn:aws:iam::000000000000:root";
inline constexpr char kMlDb[] =
    "arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/mlflow/database-AbCdEf";
inline constexpr char kWebDb[] =
    "arn:aws:secretsmanager:us-east-1:000000000000:secret:web/db-XyZ123";

inline constexpr char kExternalSecretsPolicy[] = R"({
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:ListSecrets"
      ],
      "Resource": "arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/*"
    }
  ]
})";

}  // namespace coffer::policy::test_fixtures
