// Sellers' user names, for the pages that show a seller by id to someone else (an admin):
// GET /v1/accounts/{id} once per seller for the life of the page (a user name never changes),
// so moving between that seller's pages does not ask again.

import { getJson } from "./api";
import type { Account } from "./types";

type FetchAccount = (path: string) => Promise<Account>;

// Keyed by reader and seller: a name one signed-in account read is never served to another.
const names = new Map<string, Promise<string | null>>();

/** The seller's user name, or null when its account cannot be read (refused, unknown, offline);
 * a failure is not kept, so the next page asks again. */
export function sellerUsername(readerId: string, sellerId: string, fetchAccount: FetchAccount = getJson): Promise<string | null> {
  const key = `${readerId}:${sellerId}`;
  let name = names.get(key);
  if (!name) {
    name = fetchAccount(`/v1/accounts/${encodeURIComponent(sellerId)}`).then(
      (account) => account.username || null,
      () => null,
    );
    names.set(key, name);
    void name.then((found) => {
      if (found === null) names.delete(key);
    });
  }
  return name;
}
