/* Plugin "les": the Light Ethereum Subprotocol (devp2p caps/les.md).
 * Registers services "les-server" (les_server.c) and "les-client"
 * (les_client.c, les_rpc.c). A node runs one of them: both offer the les
 * capability, and the node refuses to start with both ("protocol les/N is
 * offered by both"). */
#include "les_client.h"

static int les_init(struct ethd_registry *reg)
{
    int rc = ethd_registry_add_service(reg, &ethd_les_server_service);
    if (!rc)
        rc = ethd_registry_add_service(reg, &ethd_les_client_service);
    return rc;
}

ETHD_PLUGIN_DEFINE("les", "1.0.0",
                   "Light Ethereum Subprotocol les/2-4: les-server (flow control, CHT proofs), "
                   "les-client (light mode)",
                   les_init);
