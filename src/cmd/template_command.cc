// `coffer template render`: ESO's `esoctl template`, offline. Reads the ExternalSecret, the data
// and any templateFrom sources from files, prints the Secret manifest the operator would write.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "operator/template_render.h"

namespace coffer::cmd {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The documents of a manifest file; errors name the file.
Result<std::vector<nlohmann::json>> ReadDocuments(const std::string& path) {
  COFFER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto docs = op::ParseYamlDocuments(text);
  if (!docs.ok()) return docs.status().WithContext(path);
  return docs;
}

Status WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return Status::Ok();
  }
  // The output holds secret values: owner-only, like the key file.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot write " + path + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Status::Unavailable("cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace

int RunTemplateRender(const TemplateRenderArgs& args) {
  auto fail = [](const Status& s, int code) {
    std::fprintf(stderr, "coffer template render: %s\n", s.message().c_str());
    return code;
  };
  auto object_docs = ReadDocuments(args.templated_object);
  if (!object_docs.ok()) return fail(object_docs.status(), 2);
  if (object_docs->size() != 1) {
    return fail(Status::InvalidArgument(args.templated_object + ": expected one ExternalSecret"),
                2);
  }
  auto data_docs = ReadDocuments(args.secret_data_file);
  if (!data_docs.ok()) return fail(data_docs.status(), 2);
  op::SecretData data;
  if (!data_docs->empty()) {
    if (data_docs->size() != 1) {
      return fail(Status::InvalidArgument(args.secret_data_file + ": expected one document"), 2);
    }
    auto parsed = op::ParseSecretDataDocument(data_docs->front());
    if (!parsed.ok()) return fail(parsed.status().WithContext(args.secret_data_file), 2);
    data = std::move(*parsed);
  }
  op::TemplateSources sources;
  for (const std::string& path : args.template_from) {
    auto docs = ReadDocuments(path);
    if (!docs.ok()) return fail(docs.status(), 2);
    for (const nlohmann::json& doc : *docs) {
      if (Status s = op::AddTemplateSourceDocument(doc, sources); !s.ok()) {
        return fail(s.WithContext(path), 2);
      }
    }
  }
  if (args.left_delimiter.empty() || args.right_delimiter.empty()) {
    return fail(Status::InvalidArgument("delimiters must not be empty"), 2);
  }
  op::TemplateOptions options;
  options.left_delim = args.left_delimiter;
  options.right_delim = args.right_delimiter;
  auto secret = op::RenderExternalSecret(object_docs->front(), data, sources, options);
  if (!secret.ok()) return fail(secret.status(), 1);
  if (Status s = WriteOutput(args.output, op::JsonToYaml(*secret)); !s.ok()) return fail(s, 1);
  return 0;
}

}  // namespace coffer::cmd
