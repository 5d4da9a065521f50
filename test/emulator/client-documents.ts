/**
 * GraphQL documents exactly as Runpod's official clients send them, copied from their public sources (each
 * constant names its file and commit), so the emulator is tested against what real clients ask, not against
 * what we think they ask. `$…` placeholders are filled by `fill()` where a client formats values into the text.
 */

/** runpod/runpod-python@07fc6e2 runpod/api/queries/endpoints.py `QUERY_ENDPOINT` (used by `runpod.get_endpoints()`). */
export const PY_QUERY_ENDPOINT = `
query Query {
  myself {
    endpoints {
      aiKey
      gpuIds
      id
      idleTimeout
      name
      networkVolumeId
      locations
      scalerType
      scalerValue
      templateId
      type
      userId
      version
      workersMax
      workersMin
      workersStandby
      gpuCount
      env {
        key
        value
      }
      createdAt
      networkVolume {
        id
        dataCenterId
      }
    }
  }
}
`;

/** runpod/runpod-python@07fc6e2 runpod/api/queries/user.py `QUERY_USER` (used by `runpod.get_user()`). */
export const PY_QUERY_USER = `
query myself {
    myself {
        id
        pubKey
        networkVolumes {
            id
            name
            size
            dataCenterId
        }
    }
}
`;

/** runpod/runpod-python@07fc6e2 runpod/api/queries/gpus.py `QUERY_GPU_TYPES` (used by `runpod.get_gpus()`). */
export const PY_QUERY_GPU_TYPES = `
query GpuTypes {
  gpuTypes {
    id
    displayName
    memoryInGb
  }
}
`;

/**
 * runpod/runpod-python@07fc6e2 runpod/api/mutations/templates.py `generate_pod_template(name="$NAME",
 * image_name="$IMAGE", docker_start_cmd='python3 -u "handler.py"', env={"A": "1"}, is_serverless=True)`:
 * the text that function builds (it formats values into the document; no variables).
 */
export const PY_CREATE_TEMPLATE = `
    mutation {
        saveTemplate(
            input: {
                name: "$NAME", imageName: "$IMAGE", dockerArgs: "python3 -u \\"handler.py\\"", containerDiskInGb: 10, volumeInGb: 0, ports: "", env: [{ key: "A", value: "1" }], isServerless: true, containerRegistryAuthId : "", startSsh: true, isPublic: false, readme: ""
            }
        ) {
            id
            name
            imageName
            dockerArgs
            containerDiskInGb
            volumeInGb
            volumeMountPath
            ports
            env {
                key
                value
            }
            isServerless
        }
    }
    `;

/**
 * runpod/runpod-python@07fc6e2 runpod/api/mutations/endpoints.py `generate_endpoint_mutation("$NAME",
 * "$TEMPLATE_ID", gpu_ids="AMPERE_16", flashboot=True, gpu_count=1)` (what `runpod.create_endpoint()` sends).
 */
export const PY_CREATE_ENDPOINT = `
    mutation {
        saveEndpoint(
            input: {
                flashBootType: FLASHBOOT, name: "$NAME", templateId: "$TEMPLATE_ID", gpuIds: "AMPERE_16", networkVolumeId: "", locations: "", idleTimeout: 5, scalerType: "QUEUE_DELAY", scalerValue: 4, workersMin: 0, workersMax: 3, gpuCount: 1
            }
        ) {
            id
            name
            templateId
            gpuIds
            networkVolumeId
            locations
            idleTimeout
            scalerType
            scalerValue
            workersMin
            workersMax
            allowedCudaVersions
            gpuCount
            flashBootType
        }
    }
    `;

/** runpod/runpod-python@07fc6e2 runpod/api/mutations/endpoints.py `update_endpoint_template_mutation("$ENDPOINT_ID", "$TEMPLATE_ID")`. */
export const PY_UPDATE_ENDPOINT_TEMPLATE = `
    mutation {
        updateEndpointTemplate(input: {templateId: "$TEMPLATE_ID", endpointId: "$ENDPOINT_ID"}) {
            id
            templateId
        }
    }
    `;

/** runpod/runpodctl@2e2df89 api/endpoint.go `CreateTemplate` (variables: {input: CreateTemplateInput}). */
export const CTL_SAVE_TEMPLATE = `
		mutation saveTemplate($input: SaveTemplateInput) {
			saveTemplate(input: $input) {
			  advancedStart
			  containerDiskInGb
			  dockerArgs
			  env {
				key
				value
			  }
			  id
			  imageName
			  name
			  ports
			  readme
			  startJupyter
			  startScript
			  startSsh
			  volumeInGb
			  volumeMountPath
			}
		  }
		`;

/** runpod/runpodctl@2e2df89 api/endpoint.go `CreateEndpoint` (variables: {input: CreateEndpointInput}). */
export const CTL_SAVE_ENDPOINT = `
		mutation saveEndpoint($input: EndpointInput!) {
			saveEndpoint(input: $input) {
			  gpuIds
			  id
			  idleTimeout
			  locations
			  name
			  networkVolumeId
			  scalerType
			  scalerValue
			  templateId
			  userId
			  workersMax
			  workersMin
			}
		  }
		`;

/** runpod/runpodctl@2e2df89 api/endpoint.go `UpdateEndpointTemplate` and internal/api/endpoints.go (same text). */
export const CTL_UPDATE_ENDPOINT_TEMPLATE = `
		mutation Mutation($input: UpdateEndpointTemplateInput) {
			updateEndpointTemplate(input: $input) {
			  id
			  templateId
			}
		  }
		`;

/** runpod/runpodctl@2e2df89 api/endpoint.go `GetEndpoints` (the same selection as runpod-python's). */
export const CTL_GET_ENDPOINTS = `
		query Query {
			myself {
			  endpoints {
				aiKey
				gpuIds
				id
				idleTimeout
				name
				networkVolumeId
				locations
				scalerType
				scalerValue
				templateId
				type
				userId
				version
				workersMax
				workersMin
				workersStandby
				gpuCount
				env {
				  key
				  value
				}
				createdAt
				networkVolume {
				  id
				  dataCenterId
				}
			  }
			}
		  }
		`;

/** runpod/runpodctl@2e2df89 internal/api/endpoints.go `CreateEndpointGQL` (`runpodctl serverless create`). */
export const CTL_CREATE_ENDPOINT_GQL = `
		mutation SaveEndpoint($input: EndpointInput!) {
			saveEndpoint(input: $input) {
				id
				name
				templateId
				gpuIds
				instanceIds
				computeType
				networkVolumeId
				networkVolumeIds {
					networkVolumeId
					dataCenterId
				}
				locations
				idleTimeout
				scalerType
				scalerValue
				workersMin
				workersMax
				gpuCount
				minCudaVersion
				executionTimeoutMs
				flashBootType
				modelReferences
			}
		}
	`;

/** runpod/runpodctl@2e2df89 internal/api/endpoints.go `UpdateEndpointModels` (a full-replace round trip). */
export const CTL_UPDATE_ENDPOINT_MODELS = `
		mutation SaveEndpoint($input: EndpointInput!) {
			saveEndpoint(input: $input) {
				id
				name
				templateId
				gpuIds
				gpuCount
				instanceIds
				workersMin
				workersMax
				locations
				networkVolumeId
				networkVolumeIds { networkVolumeId }
				idleTimeout
				scalerType
				scalerValue
				executionTimeoutMs
				minCudaVersion
				flashBootType
				modelReferences
			}
		}
	`;

/** runpod/runpodctl@2e2df89 internal/api/templates.go `getTemplateByIDGraphQL`. */
export const CTL_GET_TEMPLATE = `
		query GetTemplate($id: String!) {
			podTemplate(id: $id) {
				id
				name
				imageName
				isServerless
				isPublic
				isRunpod
				category
				ports
				portsConfig {
					port
					name
				}
				env {
					key
					value
				}
				containerDiskInGb
				containerRegistryAuthId
				volumeInGb
				volumeMountPath
				readme
			}
		}
	`;

/** runpod/runpodctl@2e2df89 internal/api/templates.go `ListAllTemplates` (variables: {input: {isRunpod: true}} etc.). */
export const CTL_LIST_TEMPLATES = `
		query PodTemplates($input: PodTemplateInput) {
			podTemplates(input: $input) {
				id
				name
				imageName
				isServerless
				isPublic
				isRunpod
				category
				containerDiskInGb
				volumeInGb
				volumeMountPath
			}
		}
	`;

/** runpod/flash@757420d src/runpod_flash/core/api/runpod.py `get_template`. */
export const FLASH_GET_TEMPLATE = `
        query getTemplate($id: String!) {
            podTemplate(id: $id) {
                id
                containerDiskInGb
                dockerArgs
                env {
                    key
                    value
                }
                imageName
                name
                readme
            }
        }
        `;

/** runpod/flash@757420d src/runpod_flash/core/api/runpod.py `update_template`. */
export const FLASH_SAVE_TEMPLATE = `
        mutation saveTemplate($input: SaveTemplateInput) {
            saveTemplate(input: $input) {
                id
                containerDiskInGb
                dockerArgs
                env {
                    key
                    value
                }
                imageName
                name
                readme
            }
        }
        `;

/** runpod/flash@757420d src/runpod_flash/core/api/runpod.py `save_endpoint`. */
export const FLASH_SAVE_ENDPOINT = `
        mutation saveEndpoint($input: EndpointInput!) {
            saveEndpoint(input: $input) {
                aiKey
                gpuIds
                id
                idleTimeout
                locations
                name
                networkVolumeId
                networkVolumeIds {
                    networkVolumeId
                    dataCenterId
                }
                flashEnvironmentId
                scalerType
                scalerValue
                templateId
                type
                userId
                version
                workersMax
                workersMin
                workersStandby
                workersPFBTarget
                gpuCount
                allowedCudaVersions
                minCudaVersion
                executionTimeoutMs
                instanceIds
                activeBuildid
                idePodId
                flashBootType
            }
        }
        `;

/** runpod/flash@757420d src/runpod_flash/core/api/runpod.py `get_gpu_lowest_price_stock_status`. */
export const FLASH_GPU_STOCK = `
        query ServerlessGpuTypes($lowestPriceInput: GpuLowestPriceInput, $gpuTypesInput: GpuTypeFilter) {
          gpuTypes(input: $gpuTypesInput) {
            lowestPrice(input: $lowestPriceInput) {
              stockStatus
            }
          }
        }
        `;

/** runpod/flash@757420d src/runpod_flash/core/api/runpod.py `get_cpu_specific_stock_status`. */
export const FLASH_CPU_STOCK = `
        query SecureCpuTypes($cpuFlavorInput: CpuFlavorInput, $specificsInput: SpecificsInput) {
          cpuFlavors(input: $cpuFlavorInput) {
            specifics(input: $specificsInput) {
              stockStatus
            }
          }
        }
        `;

/** runpod/flash@757420d src/runpod_flash/core/api/runpod.py `delete_endpoint`. */
export const FLASH_DELETE_ENDPOINT = `
        mutation deleteEndpoint($id: String!) {
            deleteEndpoint(id: $id)
        }
        `;

/** Runpod docs (runpod/docs@a900806 sdks/graphql/manage-pod-templates.mdx, "Delete a template"): an inline literal. */
export const DOCS_DELETE_TEMPLATE = `mutation { deleteTemplate(templateName: "$NAME") }`;

/** Replace `$NAME`-style placeholders (the values a client formats into its document text). */
export function fill(document: string, values: Record<string, string>): string {
  return document.replace(/\$([A-Z_]+)/g, (whole, key: string) => values[key] ?? whole);
}
