#pragma once

// The whole client library: the msg-server role, the four file roles, and the
// data sources and sinks they stream through.

#include "client/connection.h"
#include "client/data_io.h"
#include "client/download_options.h"
#include "client/file_session.h"
#include "client/file_sink.h"
#include "client/file_source.h"
#include "client/msg_server_client.h"
#include "client/offline_downloader.h"
#include "client/offline_uploader.h"
#include "client/online_receiver.h"
#include "client/online_sender.h"
#include "client/pattern_source.h"
#include "client/pattern_verifier.h"
#include "client/pull_options.h"
#include "client/serve_options.h"
#include "client/status.h"
#include "client/transfer_types.h"
