// Header-only target: Swift imports swiftnst.h through this module; this file compiles to nothing.
