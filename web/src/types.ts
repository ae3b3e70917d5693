// The JSON shapes of the API (docs/api.md); int64 fields and money are strings.

export interface AccessToken {
  access_token: string;
  expires_in: string;
  token_type: string;
  account_id: string;
  role: string;
}

export interface StatsPoint {
  period_start: string;
  period_end: string;
  views: string;
  watch_time_sec: string;
  ad_views: string;
  video_revenue: string;
  ad_revenue: string;
  plays: string;
  // Playbacks each counted-view rule kept from being a view (docs/rules.md): views = plays - the five.
  excluded_self_view: string;
  excluded_overlap: string;
  excluded_stream_limit: string;
  excluded_repeat: string;
  excluded_cap: string;
}

export interface StatsSeries {
  period: string;
  points: StatsPoint[];
  data_through: string;
}

export interface StatementLine {
  video_id: string;
  title: string;
  views: string;
  ad_views: string;
  video_revenue: string;
  ad_revenue: string;
  amount: string;
}

export interface AdjustmentLine {
  original_month: string;
  video_id: string;
  title: string;
  amount: string;
}

export interface Statement {
  seller_id: string;
  period: string;
  period_start: string;
  period_end: string;
  video_revenue: string;
  ad_revenue: string;
  total: string;
  payable_krw: string;
  lines: StatementLine[];
  data_through: string;
  currency: string;
  status: string;
  closed_at: string;
  adjustments?: AdjustmentLine[];
}

export interface TopVideo {
  rank: number;
  video_id: string;
  title: string;
  views: string;
  watch_time_sec: string;
}

export interface TopVideos {
  period: string;
  period_start: string;
  period_end: string;
  videos: TopVideo[];
  data_through: string;
}

export interface Video {
  video_id: string;
  title: string;
}

export interface Balance {
  balance: string;
  payable_krw: string;
  minimum_payout_krw: string;
}

export interface Payout {
  payout_id: string;
  month: string;
  amount_krw: string;
  status: string;
  reference: string;
  created_at: string;
  updated_at: string;
}

export interface LedgerEntry {
  entry_id: string;
  kind: string;
  posted_month: string;
  original_month: string;
  video_id: string;
  payout_id: string;
  amount: string;
  posted_at: string;
  title: string;
}

export interface JobEvent {
  type: string;
  job_execution_id: string;
  day: string;
  partition_key: string;
  rows_read: string;
  status: string;
  message: string;
  partitions_total: number;
  partitions_done: number;
  final: boolean;
}

export interface PartitionExecution {
  partition_key: string;
  status: string;
  rows_read: string;
  rows_written: string;
  elapsed_ms: string;
  error: string;
}

export interface JobExecution {
  job_execution_id: string;
  job_name: string;
  parameters: string;
  status: string;
  started_at: string;
  ended_at: string;
  error: string;
  partitions: PartitionExecution[];
}

export interface Instance {
  cluster: string;
  address: string;
  healthy: boolean;
  health_flags: string;
  requests_total: string;
  requests_error: string;
  connections_active: string;
}

export interface LedgerPage {
  entries: LedgerEntry[];
  next_page_token: string;
  currency: string;
}
