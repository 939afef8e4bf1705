// Resources and prompts of every upstream, merged (issue 3, first part): resources/list,
// resources/templates/list and prompts/list gather every page of each ready, non-quarantined
// upstream that declares the capability; resources/read is routed by URI to the upstream that
// listed it (or, for a URI no listing showed, e.g. from a template, to the first upstream that
// can read it); prompts/get is routed by the prompt's exposed name ("<prefix><prompt>", as for
// tools). Subscriptions, completion and notifications relaying arrive with the rest of issue 3.
#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "router/router.h"

namespace mcpproxy::router {

using protocol::rpc_error::kInvalidParams;

namespace {

constexpr int kMaxPages = 100;  // per upstream and listing: a server that pages forever stops here

bool declares(const upstream::Upstream& upstream, const char* capability) {
  return upstream.serverInfo().capabilities.contains(capability);
}

}  // namespace

boost::asio::awaitable<Result<json::array>> Router::listEverything(upstream::Upstream& upstream,
                                                                   const std::string& method,
                                                                   const char* key) {
  json::array all;
  json::value cursor = nullptr;
  for (int page = 0; page < kMaxPages; ++page) {
    json::object params;
    if (!cursor.is_null()) params["cursor"] = cursor;
    auto response = co_await upstream.call(method, std::move(params), upstream.callTimeout());
    if (!response) co_return std::unexpected(response.error());
    if (response->is_error || !response->result.is_object()) {
      co_return makeError(ErrorCode::kProtocol, method + " failed on '" + upstream.name() + "'");
    }
    auto& result = response->result.get_object();
    if (auto* items = result.if_contains(key); items && items->is_array()) {
      for (auto& item : items->get_array()) all.push_back(std::move(item));
    }
    const auto* next = result.if_contains("nextCursor");
    if (!next || !next->is_string() || next->get_string().empty()) break;
    cursor = *next;
  }
  co_return all;
}

std::vector<std::shared_ptr<upstream::Upstream>> Router::passthroughUpstreams(
    const char* capability) const {
  std::vector<std::shared_ptr<upstream::Upstream>> out;
  for (const auto& upstream : upstreams_.all()) {
    if (!upstream->config().enabled || upstream->state() != upstream::State::kReady) continue;
    if (trust_.quarantined(upstream->config()) || !declares(*upstream, capability)) continue;
    out.push_back(upstream);
  }
  return out;
}

boost::asio::awaitable<protocol::Message> Router::listMerged(const protocol::Message& request,
                                                             const char* capability,
                                                             const char* key) {
  json::array merged;
  for (const auto& upstream : passthroughUpstreams(capability)) {
    auto items = co_await listEverything(*upstream, request.method, key);
    if (!items) {
      // One broken server must not hide the others' resources.
      log::info("{} on '{}' failed: {}", request.method, upstream->name(), items.error().message);
      continue;
    }
    for (auto& item : *items) {
      auto* object = item.if_object();
      if (!object) continue;
      if (std::string_view(key) == "prompts") {
        const auto* name = object->if_contains("name");
        if (!name || !name->is_string()) continue;
        std::string exposed = upstream->config().toolPrefix() + std::string(name->get_string());
        prompt_owner_[exposed] = {upstream->name(), std::string(name->get_string())};
        (*object)["name"] = exposed;
      } else if (const auto* uri = object->if_contains("uri"); uri && uri->is_string()) {
        resource_owner_[std::string(uri->get_string())] = upstream->name();
      } else if (const auto* uri_template = object->if_contains("uriTemplate");
                 uri_template && uri_template->is_string()) {
        // completion/complete names a template by this string (ref/resource).
        resource_owner_[std::string(uri_template->get_string())] = upstream->name();
      }
      merged.push_back(std::move(item));
    }
  }
  // Every page of every server is gathered, so one page goes back: clients need no cursor.
  co_return protocol::makeResult(request.id, json::object{{key, std::move(merged)}});
}

boost::asio::awaitable<void> Router::refreshListing(const char* method, const char* capability,
                                                    const char* key) {
  protocol::Message list;
  list.kind = protocol::MessageKind::kRequest;
  list.id = 0;
  list.method = method;
  // Named, not discarded: see docs/STYLE.md on g++ 12 and co_await temporaries.
  auto ignored = co_await listMerged(list, capability, key);
}

boost::asio::awaitable<protocol::Message> Router::readResource(const RequestContext& context,
                                                               const protocol::Message& request) {
  const json::object* params = request.params.if_object();
  const json::value* uri = params ? params->if_contains("uri") : nullptr;
  if (!uri || !uri->is_string()) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Invalid params: resources/read needs a string \"uri\"");
  }
  std::vector<std::shared_ptr<upstream::Upstream>> candidates;
  if (auto owner = resource_owner_.find(std::string(uri->get_string()));
      owner != resource_owner_.end()) {
    if (auto upstream = upstreams_.findShared(owner->second);
        upstream && !trust_.quarantined(upstream->config())) {
      candidates.push_back(std::move(upstream));
    }
  }
  if (candidates.empty()) candidates = passthroughUpstreams("resources");
  protocol::Message last =
      protocol::makeError(request.id, protocol::rpc_error::kResourceNotFound,
                          "Resource not found: " + std::string(uri->get_string()));
  for (const auto& upstream : candidates) {
    json::object forwarded = *params;
    auto request_options = requestOptions(context, forwarded);
    auto response = co_await upstream->call("resources/read", std::move(forwarded),
                                            upstream->callTimeout(), std::move(request_options));
    if (!response) continue;
    bool failed = response->is_error;
    // An upstream's own error is kept in case no other upstream can read the URI either.
    last = relayResponse(request.id, std::move(*response));
    if (failed) continue;
    resource_owner_[std::string(uri->get_string())] = upstream->name();
    co_return last;
  }
  co_return last;
}

boost::asio::awaitable<protocol::Message> Router::getPrompt(const RequestContext& context,
                                                            const protocol::Message& request) {
  const json::object* params = request.params.if_object();
  const json::value* name = params ? params->if_contains("name") : nullptr;
  if (!name || !name->is_string()) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Invalid params: prompts/get needs a string \"name\"");
  }
  auto owner = prompt_owner_.find(std::string(name->get_string()));
  if (owner == prompt_owner_.end()) {
    // Not listed yet in this process: list once to learn the names.
    co_await refreshListing("prompts/list", "prompts", "prompts");
    owner = prompt_owner_.find(std::string(name->get_string()));
  }
  upstream::Upstream* upstream =
      owner == prompt_owner_.end() ? nullptr : upstreams_.find(owner->second.first);
  if (!upstream || trust_.quarantined(upstream->config())) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Unknown prompt: " + std::string(name->get_string()));
  }
  json::object forwarded = *params;
  forwarded["name"] = owner->second.second;
  auto request_options = requestOptions(context, forwarded);
  auto response = co_await upstream->call("prompts/get", std::move(forwarded),
                                          upstream->callTimeout(), std::move(request_options));
  if (!response) {
    co_return protocol::makeError(request.id, protocol::rpc_error::kInternalError,
                                  "mcpproxy: " + response.error().message);
  }
  co_return relayResponse(request.id, std::move(*response));
}

boost::asio::awaitable<protocol::Message> Router::complete(const RequestContext& context,
                                                           const protocol::Message& request) {
  const json::object* params = request.params.if_object();
  const json::value* ref_value = params ? params->if_contains("ref") : nullptr;
  const json::object* ref = ref_value ? ref_value->if_object() : nullptr;
  const json::value* type = ref ? ref->if_contains("type") : nullptr;
  if (!type || !type->is_string()) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Invalid params: completion/complete needs a \"ref\" object");
  }
  json::object forwarded = *params;
  upstream::Upstream* upstream = nullptr;
  if (type->get_string() == "ref/prompt") {
    const auto* name = ref->if_contains("name");
    std::string exposed = name && name->is_string() ? std::string(name->get_string()) : "";
    if (!prompt_owner_.contains(exposed))
      co_await refreshListing("prompts/list", "prompts", "prompts");
    if (auto owner = prompt_owner_.find(exposed); owner != prompt_owner_.end()) {
      upstream = upstreams_.find(owner->second.first);
      forwarded["ref"].as_object()["name"] = owner->second.second;
    }
  } else if (type->get_string() == "ref/resource") {
    const auto* uri = ref->if_contains("uri");
    std::string key = uri && uri->is_string() ? std::string(uri->get_string()) : "";
    if (!resource_owner_.contains(key)) {
      co_await refreshListing("resources/templates/list", "resources", "resourceTemplates");
    }
    if (auto owner = resource_owner_.find(key); owner != resource_owner_.end()) {
      upstream = upstreams_.find(owner->second);
    }
  }
  if (!upstream || trust_.quarantined(upstream->config()) || !declares(*upstream, "completions")) {
    // Nothing to suggest is a valid answer; an unknown reference is the client's mistake.
    if (upstream) {
      co_return protocol::makeResult(
          request.id, json::object{{"completion", json::object{{"values", json::array{}}}}});
    }
    co_return protocol::makeError(request.id, kInvalidParams, "Unknown completion reference");
  }
  auto request_options = requestOptions(context, forwarded);
  auto response = co_await upstream->call("completion/complete", std::move(forwarded),
                                          upstream->callTimeout(), std::move(request_options));
  if (!response) {
    co_return protocol::makeError(request.id, protocol::rpc_error::kInternalError,
                                  "mcpproxy: " + response.error().message);
  }
  co_return relayResponse(request.id, std::move(*response));
}

boost::asio::awaitable<upstream::Upstream*> Router::resourceOwner(const std::string& uri) {
  if (!resource_owner_.contains(uri))
    co_await refreshListing("resources/list", "resources", "resources");
  auto owner = resource_owner_.find(uri);
  if (owner == resource_owner_.end()) co_return nullptr;
  upstream::Upstream* upstream = upstreams_.find(owner->second);
  if (!upstream || trust_.quarantined(upstream->config())) co_return nullptr;
  co_return upstream;
}

boost::asio::awaitable<protocol::Message> Router::subscription(const protocol::Message& request) {
  auto uri = protocol::stringParam(request, "uri");
  if (!uri) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Invalid params: " + request.method + " needs a string \"uri\"");
  }
  std::string key = std::move(*uri);
  upstream::Upstream* upstream = co_await resourceOwner(key);
  if (!upstream) {
    // A URI no listing shows (a template instance): the first upstream that supports
    // subscriptions gets it.
    for (const auto& candidate : passthroughUpstreams("resources")) {
      const auto* resources = candidate->serverInfo().capabilities.if_contains("resources");
      const auto* subscribe = resources && resources->is_object()
                                  ? resources->as_object().if_contains("subscribe")
                                  : nullptr;
      if (subscribe && subscribe->is_bool() && subscribe->get_bool()) {
        upstream = candidate.get();
        break;
      }
    }
  }
  if (!upstream) {
    co_return protocol::makeError(request.id, protocol::rpc_error::kResourceNotFound,
                                  "Resource not found: " + key);
  }
  auto response = co_await upstream->call(request.method, request.params, upstream->callTimeout());
  if (!response) {
    co_return protocol::makeError(request.id, protocol::rpc_error::kInternalError,
                                  "mcpproxy: " + response.error().message);
  }
  co_return relayResponse(request.id, std::move(*response));
}

}  // namespace mcpproxy::router
