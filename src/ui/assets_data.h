// Internal: the table that cmake/embed_ui.cmake generates (build/<preset>/generated/ui_assets.cc)
// and src/ui/assets.cc reads. Sorted by path.
#pragma once

#include <cstddef>

#include "ui/assets.h"

namespace mcpproxy::ui::generated {

extern const Asset kAssets[];
extern const std::size_t kAssetCount;

}  // namespace mcpproxy::ui::generated
