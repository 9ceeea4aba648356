/* Internal side of the event bus (include/ethd/bus.h is the service API). */
#ifndef ETHD_CORE_BUS_H
#define ETHD_CORE_BUS_H
#include <ethd/bus.h>

/* *out: caller frees with ethd_bus_free. */
int ethd_bus_new(struct ethd_bus **out);
void ethd_bus_free(struct ethd_bus *bus);

#endif
