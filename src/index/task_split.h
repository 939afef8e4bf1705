// Task decomposition for retrieve_tools: a multi-step request ("find the cheapest flight to
// Tokyo next week and add it to my calendar") is split into sub-intents, one per action, so
// each needed capability can be searched for on its own and get a slot in the answer.
//
// Rules (English; no model): a new intent starts at a sentence end or a line break, at a
// numbered or bulleted step, at "then" / "after that" / "afterwards" / "finally" / "next" /
// "also", and at "and" or a comma when the next word is an action verb ("... and add it",
// "..., save it"). Pieces with fewer than two letters-words are folded into their neighbour,
// so "pros and cons" or "A and B" stay one intent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mcpproxy::index {

inline constexpr std::size_t kMaxIntents = 8;  // longer tasks keep their first 8 steps

// The task's sub-intents, in order. A task with a single intent gives one element (the whole
// text, trimmed); an empty or blank task gives none.
std::vector<std::string> splitTask(std::string_view task);

// Whether a lower-case word is a common imperative action verb ("add", "save", "convert").
bool isActionVerb(std::string_view word);

}  // namespace mcpproxy::index
