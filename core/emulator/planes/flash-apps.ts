/**
 * Flash apps' presigned artifact upload and download (the URLs `prepareFlashArtifactUpload` and
 * `activeArtifact.downloadUrl` hand out; signed, no API key), and Bun's release downloads for the containers'
 * installer (FLASH_BUN_RELEASES_URL; public, as GitHub's are).
 */
import { Elysia } from "elysia";
import { UPLOAD_PREFIX } from "../flash-apps";
import { bunRelease } from "../images";
import type { EmulatorContext } from "./context";

/** Path prefix of the Bun releases the emulator serves (GitHub's layout below it). */
export const BUN_RELEASES_PREFIX = "/_emulator/bun-releases/";

/** The Flash apps upload plane (its GraphQL operations extend the control plane). */
export function flashApps({ flashApps }: EmulatorContext) {
  return new Elysia()
    .put(`${UPLOAD_PREFIX}*`, ({ request }) => flashApps.receiveUpload(request), { parse: "none" })
    .get(`${UPLOAD_PREFIX}*`, ({ request }) => flashApps.download(request))
    .get(`${BUN_RELEASES_PREFIX}:tag/:file`, ({ params }) => bunRelease(params.tag, params.file));
}
