// coffer: a self-hosted secret store that speaks the AWS Secrets Manager protocol.
// This file only builds the command tree; the subcommands live in *_command.cc.

#include <CLI/CLI.hpp>

#include "cmd/commands.h"
#include "config/flags.h"

int main(int argc, char** argv) {
  CLI::App app("coffer: a self-hosted secret store that speaks the AWS Secrets Manager API",
               "coffer");
  app.require_subcommand(1);

  CLI::App* server = app.add_subcommand(
      "server", "Run the server (options: flags > COFFER_* env vars > --config file > defaults)");
  coffer::config::ServerFlags server_flags;
  server_flags.Register(server);

  CLI::App* keys = app.add_subcommand("keys", "Manage the master key");
  keys->require_subcommand(1);
  CLI::App* rotate = keys->add_subcommand(
      "rotate", "Add a new master-key version and rewrap every data key (safe while serving)");
  coffer::config::ServerFlags rotate_flags;
  rotate_flags.Register(rotate,
                        {"data_dir", "master_key_file", "keyring_reload_seconds", "log_level"});

  CLI::App* audit = app.add_subcommand("audit", "Inspect the audit trail");
  audit->require_subcommand(1);
  CLI::App* audit_verify = audit->add_subcommand(
      "verify", "Check the audit trail's hash chain and signed digests (safe while serving)");
  coffer::config::ServerFlags audit_verify_flags;
  audit_verify_flags.Register(audit_verify, {"data_dir", "master_key_file", "log_level"});

  CLI::App* op = app.add_subcommand(
      "operator",
      "Run the External Secrets Operator-compatible controller (options: flags > "
      "COFFER_OPERATOR_* env vars > --config file > defaults)");
  coffer::config::OperatorFlags operator_flags;
  operator_flags.Register(op);

  CLI::App* reloader = app.add_subcommand(
      "reloader",
      "Roll Deployments, StatefulSets and DaemonSets when the Secrets and ConfigMaps they use "
      "change, honouring Stakater Reloader's annotations (the operator's options)");
  coffer::config::OperatorFlags reloader_flags;
  reloader_flags.Register(reloader);

  CLI::App* tmpl = app.add_subcommand("template", "Work with ExternalSecret templates offline");
  tmpl->require_subcommand(1);
  CLI::App* render = tmpl->add_subcommand(
      "render", "Render an ExternalSecret's target.template over given data, as esoctl template");
  coffer::cmd::TemplateRenderArgs render_args;
  render
      ->add_option("--source-templated-object", render_args.templated_object,
                   "ExternalSecret manifest (YAML or JSON) whose template to render")
      ->required();
  render
      ->add_option("--source-secret-data-file", render_args.secret_data_file,
                   "the fetched data: a YAML map of key -> base64 value, or a Secret manifest")
      ->required();
  render->add_option("--template-from", render_args.template_from,
                     "ConfigMap or Secret manifest that templateFrom reads (repeatable)");
  render->add_option("--left-delimiter", render_args.left_delimiter, "template left delimiter")
      ->capture_default_str();
  render->add_option("--right-delimiter", render_args.right_delimiter, "template right delimiter")
      ->capture_default_str();
  render->add_option("-o,--output", render_args.output,
                     "write the Secret manifest to this file (mode 0600) instead of stdout");

  CLI::App* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (*server) return coffer::cmd::RunServer(server_flags.Given());
  if (*rotate) return coffer::cmd::RunKeysRotate(rotate_flags.Given());
  if (*audit_verify) return coffer::cmd::RunAuditVerify(audit_verify_flags.Given());
  if (*op) return coffer::cmd::RunOperator(operator_flags.Given());
  if (*reloader) return coffer::cmd::RunReloader(reloader_flags.Given());
  if (*render) return coffer::cmd::RunTemplateRender(render_args);
  if (*version) return coffer::cmd::RunVersion();
  return 2;
}
