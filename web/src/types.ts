// The JSON shapes of the API (docs/api.md), under the names the pages use. They come from
// docs/openapi.json through api-types.ts, which `npm run gen:types` writes (never by hand;
// tests/web/test_frontend.py keeps it in sync). int64 fields and money are strings;
// enums are their names.

import type { components } from "./api-types";

type Schemas = components["schemas"];

export type AccessToken = Schemas["AccessToken"];
export type Account = Schemas["Account"];
export type StatsPoint = Schemas["StatsPoint"];
export type StatsSeries = Schemas["SellerStatsSeries"] | Schemas["VideoStatsSeries"];
export type SeriesComparison = Schemas["SeriesComparison"];
export type FigureChange = Schemas["FigureChange"];
export type StatementLine = Schemas["StatementLine"];
export type AdjustmentLine = Schemas["AdjustmentLine"];
export type Statement = Schemas["Statement"];
export type TopVideo = Schemas["TopVideo"];
export type TopVideos = Schemas["TopVideos"];
export type Video = Schemas["Video"];
export type Balance = Schemas["Balance"];
export type Payout = Schemas["Payout"];
export type LedgerEntry = Schemas["LedgerEntry"];
export type LedgerPage = Schemas["LedgerPage"];
export type Realtime = Schemas["Realtime"];
export type VideoRetention = Schemas["VideoRetention"];
export type RealtimePoint = Schemas["RealtimePoint"];
export type JobEvent = Schemas["JobEvent"];
export type PartitionExecution = Schemas["PartitionExecution"];
export type JobExecution = Schemas["JobExecution"];
/** One upstream host of one Envoy cluster (the admin page's instances table). */
export type Instance = Schemas["UpstreamHost"];
// The finance pages (issue 31, item 8).
export type Closing = Schemas["Closing"];
export type PendingAdjustments = Schemas["PendingAdjustments"];
export type TierTable = Schemas["TierTable"];
export type TaxTable = Schemas["TaxTable"];
export type AuditEntry = Schemas["AuditEntry"];
export type AuditPage = Schemas["AuditPage"];
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type WebhookDeliveryPage = Schemas["WebhookDeliveryPage"];
export type PayoutProfile = Schemas["PayoutProfile"];
