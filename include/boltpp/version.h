// File: boltpp/version.h
#pragma once

#define BOLTPP_VERSION_MAJOR 0
#define BOLTPP_VERSION_MINOR 1
#define BOLTPP_VERSION_PATCH 0
#define BOLTPP_VERSION_STRING "0.1.0"
