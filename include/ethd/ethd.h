/* Umbrella header of the ethd SDK. */
#ifndef ETHD_ETHD_H
#define ETHD_ETHD_H
#include <ethd/version.h>
#include <ethd/error.h>
#include <ethd/log.h>
#include <ethd/bus.h>
#include <ethd/config.h>
#include <ethd/store.h>
#include <ethd/rpc.h>
#include <ethd/plugin.h>
#include <ethd/p2p.h>
#include <ethd/random.h>
#endif
