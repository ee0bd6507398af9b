select as_of
from {{ source('ccm', 'metrics_as_of') }}
