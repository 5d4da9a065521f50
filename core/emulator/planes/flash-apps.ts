/** Flash apps' presigned artifact upload (the URL `prepareFlashArtifactUpload` hands out; signed, no API key). */
import { Elysia } from "elysia";
import { UPLOAD_PREFIX } from "../flash-apps";
import type { EmulatorContext } from "./context";

/** The Flash apps upload plane (its GraphQL operations extend the control plane). */
export function flashApps({ flashApps }: EmulatorContext) {
  return new Elysia().put(`${UPLOAD_PREFIX}*`, ({ request }) => flashApps.receiveUpload(request), { parse: "none" });
}
