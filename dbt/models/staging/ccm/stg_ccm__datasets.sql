select
    dataset,
    source,
    name as dataset_name,
    kind
from {{ source('ccm', 'datasets') }}
